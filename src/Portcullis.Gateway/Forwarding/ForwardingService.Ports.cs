using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// The port allocator (PortAllocator) decides; the service answers its one question: who holds a key.
public sealed partial class ForwardingService
{
    /// <summary>
    /// Keeps <paramref name="port"/> out of every dynamic mapping: the gateway listens on it itself (the host
    /// passes its WireGuard listen port, UDP). Random choice skips the port for the other protocol too, whose pair
    /// could never be complete.
    /// </summary>
    public void ReserveOwnPort(MappingProtocol protocol, ushort port)
    {
        lock (_lock)
            _ports.ReserveOwnPort(protocol, port);
    }

    /// <summary>
    /// How many mappings since start got a different public port than the peer's mapping of the other protocol for
    /// the same internal port, because another owner held that port for this protocol.
    /// </summary>
    public long SplitPairs
    {
        get
        {
            lock (_lock)
                return _ports.SplitPairs;
        }
    }

    /// <summary>
    /// Who holds the key: a live mapping's peer, a create in the running batch, one pending removal, or a static
    /// forward's (live or dark); null when free.
    /// </summary>
    private string? OwnerOfLocked(PortKey key) =>
        _leases.OwnerOf(key)
        ?? (_reserved.TryGetValue(key, out var reservedFor) ? reservedFor
        : _statics.OwnerOf(key));
}
