using System.Net;
using BenchmarkDotNet.Attributes;
using Portcullis.Core.Net;

namespace Portcullis.Benchmarks;

/// <summary>
/// Longest-prefix lookups, the per-packet cost of cryptokey routing on both the send path (destination)
/// and the receive path (source check). Must show zero allocations.
/// </summary>
[MemoryDiagnoser]
public class AllowedIpsBenchmarks
{
    private const int LookupsPerInvoke = 1024;

    private readonly AllowedIps<object> _v4 = new();
    private readonly AllowedIps<object> _v6 = new();
    private byte[] _addresses4 = [];
    private byte[] _addresses6 = [];

    [Params(1_000, 100_000)]
    public int Prefixes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        var peers = Enumerable.Range(0, 1000).Select(_ => new object()).ToArray();
        Span<byte> v4 = stackalloc byte[4];
        Span<byte> v6 = stackalloc byte[16];
        for (var i = 0; i < Prefixes; i++)
        {
            random.NextBytes(v4);
            _v4.Insert(IpPrefix.Masked(new IPAddress(v4), random.Next(8, 33)), peers[random.Next(peers.Length)]);
            random.NextBytes(v6);
            _v6.Insert(IpPrefix.Masked(new IPAddress(v6), random.Next(16, 129)), peers[random.Next(peers.Length)]);
        }

        // Every other probe is the base of an inserted prefix (a hit deep in the trie), the rest random.
        _addresses4 = new byte[LookupsPerInvoke * 4];
        _addresses6 = new byte[LookupsPerInvoke * 16];
        random.NextBytes(_addresses4);
        random.NextBytes(_addresses6);
        FillHits(_v4, peers, _addresses4, 4);
        FillHits(_v6, peers, _addresses6, 16);
    }

    private static void FillHits(AllowedIps<object> table, object[] peers, byte[] addresses, int size)
    {
        var slot = 0;
        foreach (var peer in peers)
        {
            foreach (var prefix in table.EntriesFor(peer))
            {
                if (slot >= LookupsPerInvoke)
                    return;
                prefix.BaseAddress.TryWriteBytes(addresses.AsSpan(slot * size, size), out _);
                slot += 2;
            }
        }
    }

    [Benchmark(OperationsPerInvoke = LookupsPerInvoke)]
    public int LookupIPv4()
    {
        var found = 0;
        var addresses = _addresses4.AsSpan();
        for (var i = 0; i < LookupsPerInvoke; i++)
        {
            if (_v4.Lookup(addresses.Slice(i * 4, 4)) is not null)
                found++;
        }
        return found;
    }

    [Benchmark(OperationsPerInvoke = LookupsPerInvoke)]
    public int LookupIPv6()
    {
        var found = 0;
        var addresses = _addresses6.AsSpan();
        for (var i = 0; i < LookupsPerInvoke; i++)
        {
            if (_v6.Lookup(addresses.Slice(i * 16, 16)) is not null)
                found++;
        }
        return found;
    }
}
