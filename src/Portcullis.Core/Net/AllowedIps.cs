using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Portcullis.Core.Net;

/// <summary>
/// WireGuard cryptokey routing table: maps IP prefixes to a value (a peer) and answers longest-prefix
/// matches. IPv4 and IPv6 live in separate tries.
/// </summary>
/// <remarks>
/// <see cref="Lookup"/> is lock-free and allocation-free, safe on any number of packet threads while
/// one control thread writes. Writes are serialized by a private lock and never change a published
/// node: they copy the path from the root to the change and publish the new root with a volatile write,
/// so a reader sees either the whole old table or the whole new one along its path.
/// </remarks>
public sealed class AllowedIps<T>
    where T : class
{
    private const int V4Bits = 32;
    private const int V6Bits = 128;

    private readonly Lock _writeLock = new();

    // Written under _writeLock; read by EntriesFor under the same lock.
    private readonly Dictionary<T, List<IPNetwork>> _byValue = new(ReferenceEqualityComparer.Instance);

    private PrefixNode<T>? _root4;
    private PrefixNode<T>? _root6;
    private int _count;

    /// <summary>Number of prefixes held.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Routes <paramref name="prefix"/> to <paramref name="value"/>, replacing the value of an identical
    /// prefix. Host bits of the base address are ignored.
    /// </summary>
    public void Insert(IPNetwork prefix, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var (key, cidr, isV6) = KeyOf(prefix);
        lock (_writeLock)
        {
            var root = isV6 ? _root6 : _root4;
            var newRoot = PrefixTrie<T>.Insert(root, key, cidr, value, out var replaced);
            Publish(isV6, newRoot);

            if (ReferenceEquals(replaced, value))
                return;
            var normalized = ToNetwork(key, cidr, isV6);
            if (replaced is null)
                Volatile.Write(ref _count, _count + 1);
            else
                Forget(replaced, normalized);
            Remember(value, normalized);
        }
    }

    /// <summary>Removes exactly <paramref name="prefix"/> (host bits ignored); false if it was not present.</summary>
    public bool Remove(IPNetwork prefix)
    {
        var (key, cidr, isV6) = KeyOf(prefix);
        lock (_writeLock)
            return RemoveLocked(key, cidr, isV6);
    }

    /// <summary>Removes every prefix routed to <paramref name="value"/>.</summary>
    public void RemoveByValue(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_writeLock)
        {
            if (!_byValue.TryGetValue(value, out var prefixes))
                return;
            foreach (var prefix in prefixes.ToArray())
            {
                var (key, cidr, isV6) = KeyOf(prefix);
                RemoveLocked(key, cidr, isV6);
            }
        }
    }

    /// <summary>
    /// Longest-prefix match for a 4-byte (IPv4) or 16-byte (IPv6) address in network order;
    /// null when nothing matches or the length is neither.
    /// </summary>
    public T? Lookup(ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            var key = (UInt128)BinaryPrimitives.ReadUInt32BigEndian(address) << (V6Bits - V4Bits);
            return PrefixTrie<T>.Lookup(Volatile.Read(ref _root4), key);
        }
        if (address.Length == 16)
            return PrefixTrie<T>.Lookup(Volatile.Read(ref _root6), BinaryPrimitives.ReadUInt128BigEndian(address));
        return null;
    }

    /// <summary>The prefixes routed to <paramref name="value"/> (host bits zero), in insertion order; a snapshot.</summary>
    public IReadOnlyList<IPNetwork> EntriesFor(T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_writeLock)
            return _byValue.TryGetValue(value, out var prefixes) ? prefixes.ToArray() : [];
    }

    public void Clear()
    {
        lock (_writeLock)
        {
            Volatile.Write(ref _root4, null);
            Volatile.Write(ref _root6, null);
            _byValue.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    /// <summary>For tests: every (prefix, value) actually held by the tries.</summary>
    internal List<(IPNetwork Prefix, T Value)> Snapshot()
    {
        var result = new List<(IPNetwork, T)>();
        var nodes = new List<(UInt128 Key, int Cidr, T Value)>();
        PrefixTrie<T>.Walk(Volatile.Read(ref _root4), nodes);
        foreach (var (key, cidr, value) in nodes)
            result.Add((ToNetwork(key, cidr, isV6: false), value));
        nodes.Clear();
        PrefixTrie<T>.Walk(Volatile.Read(ref _root6), nodes);
        foreach (var (key, cidr, value) in nodes)
            result.Add((ToNetwork(key, cidr, isV6: true), value));
        return result;
    }

    private bool RemoveLocked(UInt128 key, int cidr, bool isV6)
    {
        var root = isV6 ? _root6 : _root4;
        var newRoot = PrefixTrie<T>.Remove(root, key, cidr, out var removed);
        if (removed is null)
            return false;
        Publish(isV6, newRoot);
        Volatile.Write(ref _count, _count - 1);
        Forget(removed, ToNetwork(key, cidr, isV6));
        return true;
    }

    private void Publish(bool isV6, PrefixNode<T>? root)
    {
        if (isV6)
            Volatile.Write(ref _root6, root);
        else
            Volatile.Write(ref _root4, root);
    }

    private void Remember(T value, IPNetwork prefix)
    {
        if (!_byValue.TryGetValue(value, out var prefixes))
        {
            prefixes = [];
            _byValue.Add(value, prefixes);
        }
        prefixes.Add(prefix);
    }

    private void Forget(T value, IPNetwork prefix)
    {
        if (!_byValue.TryGetValue(value, out var prefixes))
            return;
        prefixes.Remove(prefix);
        if (prefixes.Count == 0)
            _byValue.Remove(value);
    }

    private static (UInt128 Key, int Cidr, bool IsV6) KeyOf(IPNetwork prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        prefix.BaseAddress.TryWriteBytes(bytes, out var written);
        var cidr = prefix.PrefixLength;
        if (prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork && written == 4)
        {
            var key = (UInt128)BinaryPrimitives.ReadUInt32BigEndian(bytes) << (V6Bits - V4Bits);
            return (key & PrefixNode<T>.MaskOf(cidr), cidr, false);
        }
        return (BinaryPrimitives.ReadUInt128BigEndian(bytes) & PrefixNode<T>.MaskOf(cidr), cidr, true);
    }

    private static IPNetwork ToNetwork(UInt128 key, int cidr, bool isV6)
    {
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(bytes, key);
        return new IPNetwork(new IPAddress(isV6 ? bytes : bytes[..4]), cidr);
    }
}
