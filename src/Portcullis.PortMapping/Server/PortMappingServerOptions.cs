using System.Net;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.Server;

public sealed record PortMappingServerOptions
{
    /// <summary>
    /// The gateway's tunnel address (e.g. 10.99.0.1). The socket binds to it rather than to any address, so
    /// answers leave from the address the request was sent to: natpmpc and libtorrent drop anything else.
    /// </summary>
    public required IPAddress ListenAddress { get; init; }

    /// <summary>Defaults to 5351 (RFC 6886, RFC 6887).</summary>
    public int Port { get; init; } = NatPmpMessages.ServerPort;

    /// <summary>
    /// Speak PCP as well as NAT-PMP. Defaults to true. When false the server is NAT-PMP only and answers PCP (and any
    /// other version) with the NAT-PMP "unsupported version" response, so clients such as libtorrent fall back.
    /// </summary>
    public bool EnablePcp { get; init; } = true;

    /// <summary>
    /// Log every mapping granted or deleted with the client, its ports and the public port. Defaults to false:
    /// privacy by default (DESIGN invariant 8) — nothing else this server logs links a port to a client. Turning it on
    /// is an audit decision that comes with a retention policy for the logs.
    /// </summary>
    public bool AuditLog { get; init; }

    /// <summary>
    /// The index of the interface requests must arrive on (the tunnel), or null for any. Defaults to null. The server
    /// takes a request's source address for the client's identity, which holds only for packets the tunnel delivered:
    /// one with a tunnel source that came in on another interface (a management LAN, a spoofed packet from outside) is
    /// dropped and counted, whatever the host's firewall or reverse-path filter let through.
    /// </summary>
    public int? ArrivalInterfaceIndex { get; init; }

    /// <summary>The client port unsolicited announcements go to. Defaults to 5350 (RFC 6886 §3.2.1, RFC 6887 §14.1.3).</summary>
    public int AnnouncePort { get; init; } = NatPmpMessages.ClientPort;

    /// <summary>
    /// Requests handled at once, from different clients (a client's own are always handled one at a time, in order).
    /// Defaults to 32. The policy layer answers only once a change is in the kernel and batches concurrent requests
    /// into one kernel transaction, so this bounds how many clients share one. Each is a thread, mostly waiting.
    /// </summary>
    public int ConcurrentRequests { get; init; } = 32;
}
