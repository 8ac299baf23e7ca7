using System.Security.Cryptography;
using Portcullis.PortMapping;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.Client.PortForwarding;

/// <summary>One protocol's mapping as the keeper tracks it: its PCP nonce, the lease held, and when to act next.</summary>
internal sealed class MappingSlot(MappingProtocol protocol)
{
    public MappingProtocol Protocol { get; } = protocol;

    /// <summary>Kept for the lease's whole life (refreshes and the delete must carry it); replaced after a refusal.</summary>
    public byte[] Nonce { get; private set; } = NewNonce();

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

    public void RenewNonce() => Nonce = NewNonce();

    private static byte[] NewNonce() => RandomNumberGenerator.GetBytes(PcpMessages.NonceSize);
}
