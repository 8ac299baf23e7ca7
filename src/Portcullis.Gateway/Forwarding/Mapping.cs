using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// One dynamic mapping and its lease. Immutable but for its slot in the expiry heap: a refresh makes a new instance,
/// so the service can build the new state, program the kernel, and only then swap (nothing to roll back).
/// </summary>
internal sealed class Mapping
{
    public Mapping(
        PeerSession owner,
        MappingProtocol protocol,
        ushort internalPort,
        ushort publicPort,
        byte[]? nonce,
        TimeSpan lifetime,
        TimeSpan expiresAt,
        TimeSpan kernelSlack,
        ushort requestedInternalPort,
        IReadOnlyList<RemoteFilter>? filters = null,
        IPEndPoint? remote = null)
    {
        Owner = owner;
        RequestedInternalPort = requestedInternalPort;
        Nonce = nonce;
        Lifetime = lifetime;
        ExpiresAt = expiresAt;
        KernelSlack = kernelSlack;
        Entry = remote is null
            ? new ForwardingEntry(
                owner.PublicAddress, protocol, publicPort, owner.TunnelAddress, internalPort, owner.PeerId, lifetime + kernelSlack)
            {
                Filters = filters ?? [],
            }
            : new PeerEntry(
                owner.PublicAddress, protocol, publicPort, owner.TunnelAddress, internalPort, remote, owner.PeerId, lifetime + kernelSlack);
    }

    public PeerSession Owner { get; }

    /// <summary>The kernel element: owner = peer id (an opaque id, never a key or a name), timeout = lease + slack.</summary>
    public ForwardingEntry Entry { get; }

    public MappingProtocol Protocol => Entry.Protocol;

    public ushort InternalPort => Entry.InternalPort;

    public IPAddress PublicAddress => Entry.PublicAddress;

    public ushort PublicPort => Entry.PublicPort;

    /// <summary>The remote peers the mapping admits (PCP FILTER); empty admits everyone.</summary>
    public IReadOnlyList<RemoteFilter> Filters => Entry.Filters;

    /// <summary>A PCP PEER mapping's remote end (an explicit outbound mapping); null for a MAP/NAT-PMP mapping.</summary>
    public IPEndPoint? Remote => (Entry as PeerEntry)?.Remote;

    public PortKey PortKey => PortKey.Of(Entry);

    /// <summary>
    /// The internal port as the client asked for it: 0 means "the same as the public port" (what VPN providers answer
    /// to `natpmpc -a 0 0 tcp 60`), so the request that made the mapping and its refreshes carry 0 and find it by 0.
    /// </summary>
    public ushort RequestedInternalPort { get; }

    public LeaseKey LeaseKey => new(Owner.PeerId, Protocol, RequestedInternalPort, Owner.Primary != Owner);

    /// <summary>PCP's mapping nonce (a private copy), or null for a NAT-PMP mapping.</summary>
    public byte[]? Nonce { get; }

    public TimeSpan Lifetime { get; }

    /// <summary>When the lease ends, on the service's monotonic clock.</summary>
    public TimeSpan ExpiresAt { get; }

    /// <summary>When the kernel drops the element by itself: a daemon that died leaves nothing past this.</summary>
    public TimeSpan KernelExpiresAt => ExpiresAt + KernelSlack;

    private TimeSpan KernelSlack { get; }

    /// <summary>Where the lease sits in the lease book's <see cref="ExpiryHeap"/>; -1 when it is not there.</summary>
    public int ExpirySlot { get; set; } = -1;

    /// <summary>The successor of a refresh; <paramref name="filters"/> null keeps the filters.</summary>
    public Mapping Renewed(TimeSpan lifetime, TimeSpan expiresAt, IReadOnlyList<RemoteFilter>? filters = null) =>
        new(Owner, Protocol, InternalPort, PublicPort, Nonce, lifetime, expiresAt, KernelSlack, RequestedInternalPort,
            filters ?? Filters, Remote);

    /// <summary>
    /// A mapping made with a nonce answers only to that nonce (RFC 6887 §11.3). One made over NAT-PMP has none and
    /// answers to its client, whose source address the tunnel has already authenticated.
    /// </summary>
    public bool AnswersTo(ReadOnlyMemory<byte>? nonce) =>
        Nonce is null || (nonce is { } given && given.Span.SequenceEqual(Nonce));

    /// <summary>
    /// The nonce to keep for a new mapping. An empty one counts as none: <c>cond ? null : array</c> typed as
    /// ReadOnlyMemory converts the null to empty memory, an easy slip for a front end to make.
    /// </summary>
    public static byte[]? CopyNonce(ReadOnlyMemory<byte>? nonce) =>
        nonce is { IsEmpty: false } given ? given.ToArray() : null;
}
