using System.Collections.Concurrent;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// Our random 32-bit receiver indices (wireguard-go indextable.go). An index first names a handshake in
/// flight, then the keypair derived from it. Lookups are lock-free and allocation-free on the receive path.
/// </summary>
internal sealed class IndexTable(IWireGuardCrypto crypto)
{
    internal readonly record struct Entry(Peer Peer, Handshake? Handshake, Keypair? Keypair);

    private readonly ConcurrentDictionary<uint, Entry> _entries = new();

    public int Count => _entries.Count;

    /// <summary>Registers a new random index for a peer's handshake and returns it.</summary>
    public uint NewIndexForHandshake(Peer peer, Handshake handshake)
    {
        Span<byte> random = stackalloc byte[4];
        while (true)
        {
            crypto.RandomBytes(random);
            var index = BitConverter.ToUInt32(random);
            if (index != 0 && _entries.TryAdd(index, new Entry(peer, handshake, null)))
                return index;
        }
    }

    /// <summary>Points an index that named a handshake at its keypair (same index, as the protocol requires).</summary>
    public void SwapToKeypair(uint index, Keypair keypair) =>
        _entries[index] = new Entry(keypair.Peer, null, keypair);

    public void Delete(uint index) => _entries.TryRemove(index, out _);

    public bool TryLookup(uint index, out Entry entry) => _entries.TryGetValue(index, out entry);

    public Keypair? LookupKeypair(uint index) =>
        _entries.TryGetValue(index, out var entry) ? entry.Keypair : null;

    public Handshake? LookupHandshake(uint index) =>
        _entries.TryGetValue(index, out var entry) ? entry.Handshake : null;
}
