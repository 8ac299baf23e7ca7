using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// How long an old flow outlives its mapping's deletion, and what the deletion costs the caller, with N mappings each
/// holding one tracked flow (N = 0, 10 000, 100 000): per iteration one mapping is made, a flow DNATed through it is
/// tracked, the mapping is removed (NftForwardingTable.Update), and the flow's DESTROY event is awaited on a ctnetlink
/// event socket of our own. Survival = from Update's start to that event (so it includes the commit); delete = Update's
/// return. In the same run the previous way — the flows ended on the caller's thread by a table dump filtered by
/// destination (Conntrack.Delete, what Update did before) — is timed after the same commit, and the ratio printed.
/// Flows are conntrack entries made over ctnetlink (as `conntrack -I` makes them, batched): the kernel tracks and
/// reports them as it does packets' flows. Runs in the namespace bench/mapping-latency prepares.
/// Usage: flow-survival [present,present,...] [iterations]
/// </summary>
internal static unsafe class FlowSurvival
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Tunnel = IPAddress.Parse("10.99.1.1");
    private const uint Remote = 0xC0000200; // 192.0.2.0: flows come from 192.0.2.0-255, many source ports

    public static int Run(string[] args)
    {
        var present = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [0, 10_000, 100_000];
        var iterations = args.Length > 1 ? int.Parse(args[1]) : 500;
        Console.WriteLine($"{"present",10} {"survive p50",12} {"p99",8} {"max",8} {"delete p50",11} {"p99",8} {"dump-path delete p50",21} {"p99",8} {"ratio p50",10}   (µs)");
        foreach (var n in present)
        {
            var r = Measure(n, iterations);
            Console.WriteLine($"{n,10} {r.Survive.P50,12:F0} {r.Survive.P99,8:F0} {r.Survive.Max,8:F0} {r.Delete.P50,11:F0} {r.Delete.P99,8:F0} " +
                $"{r.Dump.P50,21:F0} {r.Dump.P99,8:F0} {r.Dump.P50 / r.Delete.P50,10:F1}");
        }
        return 0;
    }

    private readonly record struct Stats(double P50, double P99, double Max);

    private readonly record struct Result(Stats Survive, Stats Delete, Stats Dump);

    private static Result Measure(int present, int iterations)
    {
        using var table = new NftForwardingTable();
        table.Install(new GatewayNetwork
        {
            TunnelInterface = "pc0",
            TunnelPrefix = IPNetwork.Parse("10.99.0.0/16"),
            GatewayTunnelAddress = IPAddress.Parse("10.99.0.1"),
            PublicInterface = "eth0",
            PublicAddresses = [Public],
        });
        using var watcher = new ConntrackEvents();
        using var creator = new FlowCreator();
        using var conntrack = new Conntrack();
        try
        {
            // N mappings (TCP and UDP, ports from 1024), and N flows to those ports (UDP entries).
            for (var start = 0; start < present; start += 10_000)
            {
                var chunk = Enumerable.Range(start, Math.Min(10_000, present - start)).Select(i => Entry(i % 2 == 0 ? MappingProtocol.Tcp : MappingProtocol.Udp, (ushort)(1024 + i / 2))).ToList();
                table.Update([], chunk);
            }
            creator.Create(Enumerable.Range(0, present).Select(i => ((byte)17, (ushort)(1024 + i / 2), (ushort)(10_000 + i % 50_000), (uint)(i / 50_000))));
            Drain(watcher);

            var survive = new List<double>(iterations);
            var delete = new List<double>(iterations);
            var dump = new List<double>(iterations);
            for (var i = 0; i < iterations; i++)
            {
                var port = (ushort)(60_000 + i % 5_000);
                var mapping = Entry(MappingProtocol.Udp, port);
                table.Update([], [mapping]);
                creator.Create([(17, port, 40_000, 255)]);
                Drain(watcher);
                var start = Stopwatch.GetTimestamp();
                table.Update([mapping], []);
                var returned = Stopwatch.GetTimestamp();
                var ended = WaitForDestroy(watcher, port);
                delete.Add(Stopwatch.GetElapsedTime(start, returned).TotalMicroseconds);
                survive.Add(Stopwatch.GetElapsedTime(start, ended).TotalMicroseconds);

                // The previous way, on the same kind of change: commit, then a filtered dump on the caller's thread.
                table.Update([], [mapping]);
                creator.Create([(17, port, 40_001, 255)]);
                Drain(watcher);
                start = Stopwatch.GetTimestamp();
                table.Update([mapping], []);
                conntrack.Delete(new OriginalDestination("udp", Public, port));
                dump.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                table.WaitForFlowCleanup(TimeSpan.FromSeconds(10));
            }
            return new Result(Summarise(survive), Summarise(delete), Summarise(dump));
        }
        finally
        {
            table.Uninstall();
        }
    }

    private static ForwardingEntry Entry(MappingProtocol protocol, ushort port) =>
        new(Public, protocol, port, Tunnel, port, "bench", TimeSpan.FromHours(1));

    private static Stats Summarise(List<double> values)
    {
        values.Sort();
        return new Stats(values[Math.Min(values.Count - 1, values.Count / 2)], values[Math.Min(values.Count - 1, (int)(0.99 * values.Count))], values[^1]);
    }

    private static void Drain(ConntrackEvents watcher)
    {
        var buffer = new ConntrackEvent[1024];
        while (watcher.Read(buffer).Count > 0)
        {
        }
    }

    // Blocks on the watcher until the DESTROY of the measured flow (UDP to the port, from source port 40000) arrives.
    private static long WaitForDestroy(ConntrackEvents watcher, ushort port)
    {
        Span<ConntrackEvent> buffer = stackalloc ConntrackEvent[64];
        var deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            var read = watcher.Read(buffer);
            var now = Stopwatch.GetTimestamp();
            for (var i = 0; i < read.Count; i++)
            {
                var flow = buffer[i].Flow;
                if (buffer[i].Kind == ConntrackEventKind.Destroy && flow.DestinationPort == port && flow.SourcePort == 40_000)
                    return now;
            }
            if (read.Overrun)
                throw new InvalidOperationException("the watcher lost events");
            if (read.Count == 0)
            {
                var fd = new PollFd { Fd = watcher.Fd, Events = 1 };
                _ = Libc.Poll(&fd, 1, 1000);
            }
        }
        throw new TimeoutException($"the flow to port {port} was not ended within 10 s");
    }

    /// <summary>Creates conntrack entries over ctnetlink (IPCTNL_MSG_CT_NEW), 200 per send, each acknowledged.</summary>
    private sealed class FlowCreator : IDisposable
    {
        private const int Length = CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength + 52 + 52 + 8;
        private readonly int _fd;
        private readonly byte[] _batch = new byte[200 * Length];
        private readonly byte[] _receive = new byte[256 * 1024];
        private uint _sequence;

        public FlowCreator()
        {
            _fd = Libc.Socket(16, 3 | 0x80000, CtNetlinkMessages.NetlinkNetfilter);
            if (_fd < 0)
                throw Errno.LastFailure("open ctnetlink socket");
        }

        /// <summary>Flows (protocol, public port, source port, source host) DNATed to 10.99.1.1 on the same port.</summary>
        public void Create(IEnumerable<(byte Protocol, ushort Port, ushort SourcePort, uint Host)> flows)
        {
            var count = 0;
            var length = 0;
            foreach (var (protocol, port, sourcePort, host) in flows)
            {
                length += Write(_batch.AsSpan(length, Length), ++_sequence, protocol, Remote + host, sourcePort, port);
                if (++count == 200)
                {
                    Flush(length, count);
                    count = length = 0;
                }
            }
            if (count > 0)
                Flush(length, count);
        }

        public void Dispose() => Libc.Close(_fd);

        private static int Write(Span<byte> message, uint sequence, byte protocol, uint source, ushort sourcePort, ushort port)
        {
            message.Clear();
            CtNetlinkMessages.WriteHeader(message, 1 << 8, 0x1 | 0x4 | 0x200 | 0x400, sequence); // NEW: REQUEST|ACK|EXCL|CREATE
            var span = message[(CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength)..];
            var at = 0;
            Tuple(span, ref at, 1, protocol, source, sourcePort, Address(Public), port);
            Tuple(span, ref at, 2, protocol, Address(Tunnel), port, source, sourcePort);
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 7, 4), 600); // CTA_TIMEOUT
            if (protocol == 6) // TCP needs a state: CTA_PROTOINFO { CTA_PROTOINFO_TCP { CTA_PROTOINFO_TCP_STATE = ESTABLISHED } }
                throw new NotSupportedException("only UDP flows are made here");
            return at + CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength;
        }

        private static void Tuple(Span<byte> span, ref int at, ushort type, byte protocol, uint source, ushort sourcePort, uint destination, ushort destinationPort)
        {
            var tuple = CtNetlinkMessages.Open(span, ref at, type);
            var ip = CtNetlinkMessages.Open(span, ref at, 1);
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 1, 4), source);
            BinaryPrimitives.WriteUInt32BigEndian(CtNetlinkMessages.Put(span, ref at, 2, 4), destination);
            CtNetlinkMessages.Close(span, ip, at);
            var proto = CtNetlinkMessages.Open(span, ref at, 2);
            CtNetlinkMessages.Put(span, ref at, 1, 1)[0] = protocol;
            BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, 2, 2), sourcePort);
            BinaryPrimitives.WriteUInt16BigEndian(CtNetlinkMessages.Put(span, ref at, 3, 2), destinationPort);
            CtNetlinkMessages.Close(span, proto, at);
            CtNetlinkMessages.Close(span, tuple, at);
        }

        private static uint Address(IPAddress address) => BinaryPrimitives.ReadUInt32BigEndian(address.GetAddressBytes());

        private void Flush(int length, int count)
        {
            fixed (byte* b = _batch)
            {
                if (Libc.Send(_fd, b, (nuint)length, 0) < 0)
                    throw Errno.LastFailure("create conntrack entries");
            }
            var acked = 0;
            while (acked < count)
            {
                nint received;
                fixed (byte* b = _receive)
                    received = Libc.Recv(_fd, b, (nuint)_receive.Length, 0);
                if (received < 0)
                    throw Errno.LastFailure("create conntrack entries (ack)");
                foreach (var (offset, messageLength, type, _) in CtNetlinkMessages.Split(_receive.AsSpan(0, (int)received)))
                {
                    if (type != CtNetlinkMessages.NlmsgError)
                        continue;
                    acked++;
                    var error = CtNetlinkMessages.ErrorOf(_receive.AsSpan(offset, messageLength));
                    if (error != 0)
                        throw Errno.Failure("create conntrack entry", error);
                }
            }
        }
    }
}
