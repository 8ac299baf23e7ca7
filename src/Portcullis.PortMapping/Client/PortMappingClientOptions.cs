using System.Net;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.ClientSide;

public sealed record PortMappingClientOptions
{
    /// <summary>The gateway's tunnel address; answers are taken from this address only.</summary>
    public required IPAddress Gateway { get; init; }

    /// <summary>Defaults to 5351 (RFC 6886, RFC 6887).</summary>
    public int Port { get; init; } = NatPmpMessages.ServerPort;

    /// <summary>
    /// The first wait for an answer; each retransmission doubles it (RFC 6887 §8.1.1, RFC 6886 §3.1). Defaults to
    /// 500 ms: the gateway sits one tunnel hop away, so RFC 6887's 3 s would only slow the notice of a lost gateway.
    /// </summary>
    public TimeSpan InitialTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Transmissions per exchange before giving up with <see cref="MappingOutcome.NoAnswer"/>. Defaults to 4 (7.5 s in all).</summary>
    public int MaxAttempts { get; init; } = 4;

    /// <summary>Skip PCP and speak NAT-PMP from the start. Defaults to false: PCP first, NAT-PMP when the gateway refuses version 2.</summary>
    public bool NatPmpOnly { get; init; }
}
