using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

/// <summary>
/// Random inserts and removes checked against a naive model (a list scanned for the longest match),
/// as wireguard-go's allowedips_rand_test.go does.
/// </summary>
public sealed class AllowedIpsModelTests
{
    private sealed class Peer(int id)
    {
        public int Id { get; } = id;
    }

    private sealed class SlowModel
    {
        private readonly Dictionary<(UInt128 Key, int Cidr), Peer> _entries = [];

        public int Count => _entries.Count;

        public void Insert(UInt128 key, int cidr, Peer peer) => _entries[(key & Mask(cidr), cidr)] = peer;

        public bool Remove(UInt128 key, int cidr) => _entries.Remove((key & Mask(cidr), cidr));

        public void RemoveByValue(Peer peer)
        {
            foreach (var (k, v) in _entries)
            {
                if (ReferenceEquals(v, peer))
                    _entries.Remove(k);
            }
        }

        public Peer? Lookup(UInt128 address)
        {
            Peer? best = null;
            var bestCidr = -1;
            foreach (var ((key, cidr), peer) in _entries)
            {
                if ((address & Mask(cidr)) == key && cidr > bestCidr)
                {
                    best = peer;
                    bestCidr = cidr;
                }
            }
            return best;
        }

        public int CountFor(Peer peer) => _entries.Values.Count(p => ReferenceEquals(p, peer));

        private static UInt128 Mask(int cidr) => cidr == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - cidr);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(4, 2)]
    [InlineData(6, 3)]
    [InlineData(6, 4)]
    public void RandomOperations_MatchNaiveModel(int family, int seed)
    {
        var bits = family == 4 ? 32 : 128;
        var random = new Random(seed);
        var peers = Enumerable.Range(0, 12).Select(i => new Peer(i)).ToArray();
        var table = new AllowedIps<Peer>();
        var model = new SlowModel();

        for (var step = 0; step < 3000; step++)
        {
            var (key, cidr) = RandomPrefix(random, bits);
            var roll = random.Next(100);
            if (roll < 60)
            {
                var peer = peers[random.Next(peers.Length)];
                table.Insert(ToNetwork(key, cidr, bits), peer);
                model.Insert(key, cidr, peer);
            }
            else if (roll < 95)
            {
                Assert.Equal(model.Remove(key, cidr), table.Remove(ToNetwork(key, cidr, bits)));
            }
            else
            {
                var peer = peers[random.Next(peers.Length)];
                table.RemoveByValue(peer);
                model.RemoveByValue(peer);
            }

            Assert.Equal(model.Count, table.Count);
            for (var probe = 0; probe < 8; probe++)
            {
                var address = RandomAddressNear(random, key, bits);
                Assert.Same(model.Lookup(address), table.Lookup(ToBytes(address, bits)));
            }
        }

        Assert.Equal(model.Count, table.Snapshot().Count);
        foreach (var peer in peers)
            Assert.Equal(model.CountFor(peer), table.EntriesFor(peer).Count);
    }

    // Prefixes from a small pool of base addresses so that inserts and removes collide and nest.
    private static (UInt128 Key, int Cidr) RandomPrefix(Random random, int bits)
    {
        var key = RandomAddress(random, bits) & (UInt128.MaxValue << 120 | (UInt128)random.Next(4) << 100);
        var cidr = random.Next(bits + 1);
        var mask = cidr == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - cidr);
        return (key & mask, cidr);
    }

    private static UInt128 RandomAddress(Random random, int bits)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
        return bits == 32 ? value & (UInt128.MaxValue << 96) : value;
    }

    private static UInt128 RandomAddressNear(Random random, UInt128 key, int bits)
    {
        var flipFrom = random.Next(bits);
        var noise = RandomAddress(random, bits) & (UInt128.MaxValue >> flipFrom);
        return (key ^ noise) & (bits == 32 ? UInt128.MaxValue << 96 : UInt128.MaxValue);
    }

    private static byte[] ToBytes(UInt128 value, int bits)
    {
        var bytes = new byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return bits == 32 ? bytes[..4] : bytes;
    }

    private static IPNetwork ToNetwork(UInt128 key, int cidr, int bits) => new(new IPAddress(ToBytes(key, bits)), cidr);
}
