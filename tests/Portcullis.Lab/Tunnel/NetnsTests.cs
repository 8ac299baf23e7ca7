using System.Globalization;
using System.Text.Json;
using Portcullis.Lab.Harness;
using static Portcullis.Lab.Harness.WireGuardImplementation;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// The wireguard.com/netns deployment (<see cref="NetnsLab"/>) with our daemon, checked the way the kernel's and
/// wireguard-go's netns tests check it: flood pings, TCP and UDP with iperf3 over inner IPv4 and IPv6 at the default
/// and a ~34 KiB MTU, exact interface counters, roaming and listen-port changes, and deletion ending the daemon.
/// Transfers run for a few seconds each (CI); `bench/netns/run` moves 1 GB per run and compares with wireguard-go.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class NetnsTests
{
    private const int IperfSeconds = 2;
    private const int DefaultMtu = 1420;

    public static TheoryData<WireGuardImplementation, bool, int> TrafficRows => new()
    {
        { Ours, false, DefaultMtu },
        { Ours, true, DefaultMtu },
        { Ours, false, NetnsLab.JumboMtu },
        { Ours, true, NetnsLab.JumboMtu },
        // Interop in this topology: the second interface is Debian's wireguard-go, moved the same way.
        { WireGuardGo, false, DefaultMtu },
    };

    [Theory]
    [MemberData(nameof(TrafficRows))]
    public async Task Traffic_InterfacesMovedOutOfTheDaemonsNamespace_FloodPingsTcpAndUdpFlowWithoutStall(
        WireGuardImplementation second, bool outerIpv6, int mtu)
    {
        await using var lab = await NetnsLab.StartAsync(second, outerIpv6, mtu == DefaultMtu ? null : mtu);

        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne, 10, lab);
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 10, lab);
        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne6, 10, lab);
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo6, 10, lab);

        // As the suite: TCP over inner IPv4 one way and IPv6 the other, UDP likewise crossed. Rows with IPv6 outside
        // turn every direction around, so each MTU sees each protocol, inner family and direction.
        var (a, b) = outerIpv6 ? (lab.Two, lab.One) : (lab.One, lab.Two);
        var runs = new[]
        {
            await Iperf.RunAsync(b, a, Inner(lab, b, ipv6: false), udp: false, IperfSeconds),
            await Iperf.RunAsync(a, b, Inner(lab, a, ipv6: true), udp: false, IperfSeconds),
            await Iperf.RunAsync(a, b, Inner(lab, a, ipv6: false), udp: true, IperfSeconds),
            await Iperf.RunAsync(b, a, Inner(lab, b, ipv6: true), udp: true, IperfSeconds),
        };
        foreach (var run in runs)
            run.AssertNoStall();

        // Byte for byte through buffers sized for this MTU.
        const long bytes = 16L * 1024 * 1024;
        var receiver = await TcpTransfer.ListenAsync(b, Inner(lab, b, ipv6: false));
        var sent = await TcpTransfer.SendAsync(a, Inner(lab, b, ipv6: false), bytes, 0, TimeSpan.FromSeconds(60));
        Assert.Equal(sent, await TcpTransfer.ReceivedAsync(receiver, TimeSpan.FromSeconds(10)));
        Assert.Equal(bytes, sent.Bytes);
        if (lab.DeviceOne.Process.HasExited)
            Assert.Fail($"our daemon exited\n{lab.Diagnostics()}");
    }

    [Fact]
    public async Task Counters_TenEchoRequests_MoveBothInterfacesByExactlyTheirBytes()
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        // One request waits for the handshake and is answered; nothing else is in flight afterwards.
        Assert.Equal(1, await EchoBurstAsync(lab.Two, NetnsLab.InnerOne, 1));
        var one = await LinkCountersAsync(lab.One, lab.DeviceOne.Interface);
        var two = await LinkCountersAsync(lab.Two, lab.DeviceTwo.Interface);
        var peerOne = Assert.Single(await lab.DeviceOne.ShowPeersAsync());

        Assert.Equal(10, await EchoBurstAsync(lab.Two, NetnsLab.InnerOne, 10));

        // 10 echo requests and 10 replies of 84 bytes (20 IP + 8 ICMP + 56 data), nothing else, on either side.
        var expected = new LinkCounters(10, 840, 10, 840);
        Assert.Equal(expected, await LinkCountersAsync(lab.One, lab.DeviceOne.Interface) - one);
        Assert.Equal(expected, await LinkCountersAsync(lab.Two, lab.DeviceTwo.Interface) - two);
        // Through the tunnel each is a 128-byte message (84 padded to 96, + 16 header + 16 tag); keepalives may add.
        var peerOneAfter = Assert.Single(await lab.DeviceOne.ShowPeersAsync());
        Assert.InRange(peerOneAfter.RxBytes - peerOne.RxBytes, 10 * 128, 10 * 128 + 2 * 32);
        Assert.InRange(peerOneAfter.TxBytes - peerOne.TxBytes, 10 * 128, 10 * 128 + 2 * 32);
    }

    [Fact]
    public async Task Roaming_OuterAddressAndListenPortChange_PeerFollowsBothFamilies()
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 1, lab);

        // IPv4: the outer namespace's loopback address changes and the first daemon moves to another port.
        await lab.Outer.RunCheckedAsync("ip", "-4", "addr", "del", "127.0.0.1/8", "dev", "lo");
        await lab.Outer.RunCheckedAsync("ip", "-4", "addr", "add", "127.212.121.99/8", "dev", "lo");
        await lab.DeviceOne.SetAsync("listen-port", "10001");
        await lab.DeviceOne.SetAsync("peer", lab.KeysTwo.PublicKey, "endpoint", NetnsLab.Endpoint(false, NetnsLab.PortTwo));
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo6, 1, lab);
        Assert.Equal("127.212.121.99:10001", await EndpointOfAsync(lab.DeviceTwo, lab.KeysOne.PublicKey));
        Assert.Equal("10001", (await lab.DeviceOne.Host.RunCheckedAsync("wg", "show", lab.DeviceOne.Interface, "listen-port")).Trim());
        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne, 1, lab);

        // IPv6: another port, the peer reached over ::1.
        await lab.DeviceOne.SetAsync("listen-port", "10002");
        await lab.DeviceOne.SetAsync("peer", lab.KeysTwo.PublicKey, "endpoint", NetnsLab.Endpoint(true, NetnsLab.PortTwo));
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 1, lab);
        Assert.Equal("[::1]:10002", await EndpointOfAsync(lab.DeviceTwo, lab.KeysOne.PublicKey));
        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne6, 10, lab);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Deletion_OfTheMovedInterfaceOrItsNamespace_EndsOurDaemonCleanly(bool wholeNamespace)
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 1, lab);
        Assert.False(lab.DeviceOne.Process.HasExited, "the move must not end the daemon");

        if (wholeNamespace)
            await ProcessRunner.RunCheckedAsync("ip", "netns", "del", lab.One.Namespace);
        else
            await lab.One.RunCheckedAsync("ip", "link", "del", lab.DeviceOne.Interface);

        if (!await lab.DeviceOne.Process.WaitForExitAsync(TimeSpan.FromSeconds(15)))
            Assert.Fail($"still running\n{lab.Diagnostics()}");
        Assert.Equal(0, lab.DeviceOne.Process.ExitCode);
        Assert.Contains("was removed; shutting down", lab.DeviceOne.Process.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(lab.DeviceOne.SocketPath), "the UAPI socket was left behind");
        Assert.False(lab.DeviceTwo.Process.HasExited, "the other daemon must carry on");
    }

    [Fact]
    public async Task ListenPorts_FloodedWithOversizedAndGarbageDatagrams_EchoRequestsLoseNothing()
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        Assert.Equal(1, await EchoBurstAsync(lab.One, NetnsLab.InnerTwo, 1));
        var flooder = lab.Outer.Start("python3", "-c", Flooder, "127.0.0.1",
            NetnsLab.PortOne.ToString(CultureInfo.InvariantCulture), NetnsLab.PortTwo.ToString(CultureInfo.InvariantCulture));
        await Wait.ForStartAsync(flooder, "flooder", () => Task.FromResult(Flooded(flooder) >= 2_000), TimeSpan.FromSeconds(15),
            TimeSpan.FromMilliseconds(20), "sent too little");
        var before = Flooded(flooder);
        var overrunBefore = await UdpReceiveBufferErrorsAsync(lab.Outer);
        var one = await LinkCountersAsync(lab.One, lab.DeviceOne.Interface);
        var two = await LinkCountersAsync(lab.Two, lab.DeviceTwo.Interface);

        // Bursts of echo requests each way: they share receive batches with datagrams the daemons must drop.
        for (var round = 0; round < 3; round++)
        {
            await EchoBurstAsync(lab.One, NetnsLab.InnerTwo, 100);
            await EchoBurstAsync(lab.Two, NetnsLab.InnerOne6, 100);
        }

        // Counted where the tunnel ends, not by ping (whose socket may overflow with a burst of replies): every
        // request left one interface and came out of the other, and so did every reply. 300 IPv4 packets of 84
        // bytes and 300 IPv6 packets of 104 each way through each interface.
        var expected = new LinkCounters(600, 300 * 84 + 300 * 104, 600, 300 * 84 + 300 * 104);
        var overruns = await UdpReceiveBufferErrorsAsync(lab.Outer) - overrunBefore;
        var countedOne = await LinkCountersAsync(lab.One, lab.DeviceOne.Interface) - one;
        var countedTwo = await LinkCountersAsync(lab.Two, lab.DeviceTwo.Interface) - two;
        if (countedOne != expected || countedTwo != expected)
        {
            // Datagrams the kernel dropped because a socket buffer was full are the machine's doing, not the daemons'.
            Assert.Fail($"expected {expected} at both ends; one counted {countedOne}, two {countedTwo}; " +
                $"UDP receive buffer overruns meanwhile: {overruns}\n{lab.Diagnostics()}");
        }
        Assert.False(flooder.HasExited, $"the flooder stopped early\n{flooder}");
        Assert.True(Flooded(flooder) > before, "the flood did not go on during the pings");
        await flooder.DisposeAsync();
        var run = await Iperf.RunAsync(lab.Two, lab.One, NetnsLab.InnerTwo, udp: false, IperfSeconds);
        run.AssertNoStall();
    }

    // Alternates 8000-byte datagrams (beyond any buffer at MTU 1420) with short garbage and transport-typed junk to
    // both listen ports, 4000 a second in all, and prints a running count. Paced: an unpaced flood outruns what the
    // daemons drain on a busy machine, and the kernel then drops good datagrams with the bad (UdpRcvbufErrors),
    // which is a test of the machine, not of the daemon.
    private const string Flooder = """
        import os, socket, sys, time
        host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        big = b'\x04\x00\x00\x00' + os.urandom(7996)
        junk = [os.urandom(3), b'\x04\x00\x00\x00' + os.urandom(28), b'\xee' + os.urandom(100)]
        n, start, rate = 0, time.monotonic(), 4000
        while True:
            for p in ports:
                s.sendto(big, (host, p))
                s.sendto(junk[n % 3], (host, p))
                n += 2
            if n % 200 == 0:
                print(n, flush=True)
            ahead = n / rate - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
        """;

    private static long Flooded(LabProcess flooder)
    {
        var lines = flooder.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? 0 : long.Parse(lines[^1].Trim(), CultureInfo.InvariantCulture);
    }

    private static string Inner(NetnsLab lab, LabHost host, bool ipv6) => ReferenceEquals(host, lab.One)
        ? (ipv6 ? NetnsLab.InnerOne6 : NetnsLab.InnerOne)
        : (ipv6 ? NetnsLab.InnerTwo6 : NetnsLab.InnerTwo);

    /// <summary>
    /// `ping -f -c COUNT -w 30`, as the suite floods: COUNT replies before the deadline. Flood mode sends on when a
    /// reply is slow, so this proves the path works, not that nothing was lost (<see cref="EchoBurstAsync"/> counts).
    /// </summary>
    private static async Task AssertFloodPingAsync(LabHost from, string address, int count, NetnsLab lab)
    {
        var result = await from.RunAsync(
            ["ping", "-n", "-q", "-f", "-c", count.ToString(CultureInfo.InvariantCulture), "-w", "30", address],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });
        var received = System.Text.RegularExpressions.Regex.Match(result.Stdout, @", (\d+) received");
        if (!received.Success || int.Parse(received.Groups[1].Value, CultureInfo.InvariantCulture) < count)
            Assert.Fail($"{from.Name} → {address}: {result}\n{lab.Diagnostics()}");
    }

    /// <summary>
    /// Sends exactly COUNT echo requests at once (`ping -l COUNT -c COUNT`) and returns how many replies ping saw. Not
    /// `-f`: flood ping sends more while replies are slow, and gives a reply still on its way at the end only twice
    /// the largest round trip so far, which a busy machine can exceed; this waits at least a second for the last.
    /// </summary>
    private static async Task<int> EchoBurstAsync(LabHost from, string address, int count)
    {
        var n = count.ToString(CultureInfo.InvariantCulture);
        var result = await from.RunAsync(
            ["ping", "-n", "-q", "-l", n, "-c", n, "-W", "5", address], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });
        var counts = System.Text.RegularExpressions.Regex.Match(result.Stdout, @"(\d+) packets transmitted, (\d+) received");
        Assert.True(counts.Success && counts.Groups[1].Value == n, $"{from.Name} → {address}: {result}");
        return int.Parse(counts.Groups[2].Value, CultureInfo.InvariantCulture);
    }

    /// <summary>RcvbufErrors of UDP and UDP6 in <paramref name="host"/>'s namespace (/proc/net/snmp, /proc/net/snmp6).</summary>
    private static async Task<long> UdpReceiveBufferErrorsAsync(LabHost host)
    {
        var snmp = (await host.RunCheckedAsync("cat", "/proc/net/snmp")).Split('\n');
        var header = Array.FindIndex(snmp, line => line.StartsWith("Udp: ", StringComparison.Ordinal));
        var names = snmp[header].Split(' ');
        var values = snmp[header + 1].Split(' ');
        var total = long.Parse(values[Array.IndexOf(names, "RcvbufErrors")], CultureInfo.InvariantCulture);
        foreach (var line in (await host.RunCheckedAsync("cat", "/proc/net/snmp6")).Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["Udp6RcvbufErrors", var value])
                total += long.Parse(value, CultureInfo.InvariantCulture);
        }
        return total;
    }

    private static async Task<string> EndpointOfAsync(WireGuardDevice device, string publicKey)
    {
        var peer = (await device.ShowPeersAsync()).Single(p => p.PublicKey == publicKey);
        return peer.Endpoint ?? "(none)";
    }

    private static async Task<LinkCounters> LinkCountersAsync(LabHost host, string interfaceName)
    {
        using var json = JsonDocument.Parse(await host.RunCheckedAsync("ip", "-s", "-j", "link", "show", "dev", interfaceName));
        var stats = json.RootElement[0].GetProperty("stats64");
        return new LinkCounters(
            stats.GetProperty("rx").GetProperty("packets").GetInt64(), stats.GetProperty("rx").GetProperty("bytes").GetInt64(),
            stats.GetProperty("tx").GetProperty("packets").GetInt64(), stats.GetProperty("tx").GetProperty("bytes").GetInt64());
    }

    private sealed record LinkCounters(long RxPackets, long RxBytes, long TxPackets, long TxBytes)
    {
        public static LinkCounters operator -(LinkCounters after, LinkCounters before) => new(
            after.RxPackets - before.RxPackets, after.RxBytes - before.RxBytes,
            after.TxPackets - before.TxPackets, after.TxBytes - before.TxBytes);
    }
}
