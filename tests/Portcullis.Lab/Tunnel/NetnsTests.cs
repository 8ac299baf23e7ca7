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
    public async Task Counters_TenFloodPings_MoveBothInterfacesByExactlyTheirBytes()
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne, 1, lab);
        var one = await LinkCountersAsync(lab.One, lab.DeviceOne.Interface);
        var two = await LinkCountersAsync(lab.Two, lab.DeviceTwo.Interface);
        var peerOne = Assert.Single(await lab.DeviceOne.ShowPeersAsync());

        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne, 10, lab);

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
    public async Task ListenPorts_FloodedWithOversizedAndGarbageDatagrams_FloodPingsLoseNothing()
    {
        await using var lab = await NetnsLab.StartAsync(Ours, outerIpv6: false);
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 1, lab);
        var flooder = lab.Outer.Start("python3", "-c", Flooder, "127.0.0.1",
            NetnsLab.PortOne.ToString(CultureInfo.InvariantCulture), NetnsLab.PortTwo.ToString(CultureInfo.InvariantCulture));
        await Wait.ForStartAsync(flooder, "flooder", () => Task.FromResult(Flooded(flooder) > 10_000), TimeSpan.FromSeconds(15),
            TimeSpan.FromMilliseconds(20), "sent too little");
        var before = Flooded(flooder);

        // Every echo request and reply shares receive batches with datagrams the daemons must drop.
        await AssertFloodPingAsync(lab.One, NetnsLab.InnerTwo, 300, lab);
        await AssertFloodPingAsync(lab.Two, NetnsLab.InnerOne6, 300, lab);

        Assert.False(flooder.HasExited, $"the flooder stopped early\n{flooder}");
        Assert.True(Flooded(flooder) > before, "the flood did not go on during the pings");
        await flooder.DisposeAsync();
        var run = await Iperf.RunAsync(lab.Two, lab.One, NetnsLab.InnerTwo, udp: false, IperfSeconds);
        run.AssertNoStall();
    }

    // Alternates 8000-byte datagrams (beyond any buffer at MTU 1420) with short garbage and transport-typed junk to
    // both listen ports, and prints a running count.
    private const string Flooder = """
        import os, socket, sys
        host, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        big = b'\x04\x00\x00\x00' + os.urandom(7996)
        junk = [os.urandom(3), b'\x04\x00\x00\x00' + os.urandom(28), b'\xee' + os.urandom(100)]
        n = 0
        while True:
            for p in ports:
                s.sendto(big, (host, p))
                s.sendto(junk[n % 3], (host, p))
                n += 2
            if n % 2000 == 0:
                print(n, flush=True)
        """;

    private static long Flooded(LabProcess flooder)
    {
        var lines = flooder.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return lines.Length == 0 ? 0 : long.Parse(lines[^1].Trim(), CultureInfo.InvariantCulture);
    }

    private static string Inner(NetnsLab lab, LabHost host, bool ipv6) => ReferenceEquals(host, lab.One)
        ? (ipv6 ? NetnsLab.InnerOne6 : NetnsLab.InnerOne)
        : (ipv6 ? NetnsLab.InnerTwo6 : NetnsLab.InnerTwo);

    /// <summary>`ping -f -c COUNT`: every request answered (the first may wait for the handshake).</summary>
    private static async Task AssertFloodPingAsync(LabHost from, string address, int count, NetnsLab lab)
    {
        var result = await from.RunAsync(
            ["ping", "-n", "-q", "-f", "-c", count.ToString(CultureInfo.InvariantCulture), "-W", "5", address],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });
        if (!result.Stdout.Contains($"{count} packets transmitted, {count} received", StringComparison.Ordinal))
            Assert.Fail($"{from.Name} → {address}: {result}\n{lab.Diagnostics()}");
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
