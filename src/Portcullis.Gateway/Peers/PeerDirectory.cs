using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Peers;

/// <summary>
/// The store's peers in memory, for the paths that must not wait on the database: a session event names a public
/// key, and the host needs the peer's id and tunnel address at once. Loaded from the store at start; every change
/// the operations make is written to the store first and then here. Thread-safe; readers get immutable records.
/// </summary>
internal sealed class PeerDirectory
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, StoredPeer> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredPeer> _byKey = new(StringComparer.Ordinal);

    /// <summary>
    /// Held while a session event is resolved and applied, and while an operation changes a peer's directory entry
    /// and ends its session: the two never interleave. Taken before the forwarding service's lock, never inside it.
    /// </summary>
    public Lock SessionGate { get; } = new();

    public int Count
    {
        get
        {
            lock (_lock)
                return _byId.Count;
        }
    }

    public void Replace(IEnumerable<StoredPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        lock (_lock)
        {
            _byId.Clear();
            _byKey.Clear();
            foreach (var peer in peers)
                AddLocked(peer);
        }
    }

    /// <summary>Adds the peer, or replaces the one with its id (its key may have changed).</summary>
    public void Upsert(StoredPeer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        lock (_lock)
        {
            RemoveLocked(peer.Id);
            AddLocked(peer);
        }
    }

    public void Remove(string id)
    {
        lock (_lock)
            RemoveLocked(id);
    }

    /// <summary>The peer with this public key (base64), or null.</summary>
    public StoredPeer? FindByKey(string publicKey)
    {
        lock (_lock)
            return _byKey.GetValueOrDefault(publicKey);
    }

    public StoredPeer? FindById(string id)
    {
        lock (_lock)
            return _byId.GetValueOrDefault(id);
    }

    public IReadOnlyList<StoredPeer> Snapshot()
    {
        lock (_lock)
            return [.. _byId.Values];
    }

    private void AddLocked(StoredPeer peer)
    {
        _byId[peer.Id] = peer;
        _byKey[peer.PublicKey] = peer;
    }

    private void RemoveLocked(string id)
    {
        if (_byId.Remove(id, out var old) && _byKey.TryGetValue(old.PublicKey, out var holder) && holder.Id == id)
            _byKey.Remove(old.PublicKey);
    }
}
