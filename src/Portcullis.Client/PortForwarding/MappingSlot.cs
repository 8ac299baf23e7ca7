using System.Security.Cryptography;
using Portcullis.PortMapping;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.Client.PortForwarding;

/// <summary>One protocol's mapping as the keeper tracks it: its PCP nonce, the lease held, and when to act next.</summary>
internal sealed class MappingSlot(MappingProtocol protocol)
{
    public MappingProtocol Protocol { get; } = protocol;

    /// <summary>Random, kept for the keeper's whole life: refreshes and the delete must carry it (RFC 6887 §11.1).</summary>
    public byte[] Nonce { get; } = RandomNumberGenerator.GetBytes(PcpMessages.NonceSize);

    public ushort ExternalPort { get; set; }
    public ushort InternalPort { get; set; }
    public System.Net.IPAddress? ExternalAddress { get; set; }
    public DateTimeOffset Expires { get; set; }

    /// <summary>True while a lease is believed to stand at the gateway.</summary>
    public bool Held { get; set; }

    /// <summary>True once any mapping was granted, so exit knows there may be something to delete.</summary>
    public bool EverGranted { get; set; }

    public DateTimeOffset Due { get; set; } = DateTimeOffset.MinValue;
    public int Failures { get; set; }
}
