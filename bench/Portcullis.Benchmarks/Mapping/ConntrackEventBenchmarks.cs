using System.Buffers.Binary;
using BenchmarkDotNet.Attributes;
using Portcullis.Linux.Nftables;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// The reaper's per-event work: parse a ctnetlink NEW or DESTROY event into a value and apply it to the index of DNATed
/// flows (here holding 100 000). Every event of every flow the gateway forwards passes through this. Must show zero
/// allocations once the index has seen the destination. The reference is that index alone (as before the gateway
/// indexed tunnel addresses' flows too); the other run is the gateway's setting, the tunnel prefix indexed as well
/// (the same 100 000 flows held under their peers' addresses), so the ratio is what that second index costs per event.
/// </summary>
[MemoryDiagnoser]
public class ConntrackEventBenchmarks
{
    private const int EventsPerInvoke = 1024;
    private readonly ConntrackFlowIndex _index = new();
    private readonly ConntrackFlowIndex _tunnelIndex = new();
    private byte[][] _new = [];
    private byte[][] _destroy = [];

    [GlobalSetup]
    public void Setup()
    {
        _tunnelIndex.ByAddress.Prefixes = [ConntrackAddressIndex.PrefixOf(System.Net.IPNetwork.Parse("10.99.0.0/16"))];
        for (var i = 0; i < 100_000; i++)
        {
            var flow = new TrackedFlow(17, FlowAddress.V4(0xC0000200 + (uint)(i / 50_000)), (ushort)(10_000 + i % 50_000), FlowAddress.V4(0xC633640A), (ushort)(1024 + i / 2), FlowAddress.V4(0x0A630100 + (uint)(i % 200)), (ushort)(1024 + i / 2), 0, (uint)i + 1);
            _index.Add(flow);
            _tunnelIndex.Add(flow);
        }
        _new = Enumerable.Range(0, EventsPerInvoke).Select(i => Event(256, (ushort)(40_000 + i), (uint)(1_000_000 + i))).ToArray();
        _destroy = Enumerable.Range(0, EventsPerInvoke).Select(i => Event(258, (ushort)(40_000 + i), (uint)(1_000_000 + i))).ToArray();
    }

    /// <summary>1024 flows confirmed then removed: 2048 events parsed and applied to the DNAT index.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = 2 * EventsPerInvoke)]
    public int ParseAndApply() => Run(_index);

    /// <summary>The same with tunnel addresses' flows indexed too (the gateway's setting).</summary>
    [Benchmark(OperationsPerInvoke = 2 * EventsPerInvoke)]
    public int ParseAndApplyWithTunnelIndex() => Run(_tunnelIndex);

    private int Run(ConntrackFlowIndex index)
    {
        var applied = 0;
        foreach (var message in _new)
        {
            if (CtNetlinkEvents.TryRead(message, out var read))
            {
                index.Apply(read);
                applied++;
            }
        }
        foreach (var message in _destroy)
        {
            if (CtNetlinkEvents.TryRead(message, out var read))
            {
                index.Apply(read);
                applied++;
            }
        }
        return applied;
    }

    // An event as the kernel sends it: UDP 192.0.2.9:sport → 198.51.100.10:60000, DNATed to 10.99.1.1:60000, with an id.
    private static byte[] Event(ushort type, ushort sourcePort, uint id)
    {
        var message = new byte[CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength + 52 + 52 + 8];
        CtNetlinkMessages.WriteHeader(message, type, 0, 0);
        var span = message.AsSpan(CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength);
        var at = 0;
        Tuple(span, ref at, 1, 0xC0000209, sourcePort, 0xC633640A, 60_000);
        Tuple(span, ref at, 2, 0x0A630101, 60_000, 0xC0000209, sourcePort);
        BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 12, 4), id); // CTA_ID
        return message;
    }

    private static void Tuple(Span<byte> span, ref int at, ushort type, uint source, ushort sourcePort, uint destination, ushort destinationPort)
    {
        var tuple = CtNetlinkMessages.Open(span, ref at, type);
        var ip = CtNetlinkMessages.Open(span, ref at, 1);
        BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 1, 4), source);
        BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 2, 4), destination);
        CtNetlinkMessages.Close(span, ip, at);
        var proto = CtNetlinkMessages.Open(span, ref at, 2);
        CtNetlinkMessages.Put(span, ref at, 1, 1)[0] = 17;
        BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, 2, 2), sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, 3, 2), destinationPort);
        CtNetlinkMessages.Close(span, proto, at);
        CtNetlinkMessages.Close(span, tuple, at);
    }
}
