using System.Diagnostics;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// What a gateway SIGKILLed and restarted keeps: it calls back every peer it remembered (stock wireguard-go clients
/// that only send keepalives would otherwise wait up to two minutes to handshake again), and it refuses initiations it
/// accepted before the crash (the replay floors are in the store).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class CrashRecoveryTests
{
    private const string DedicatedAddress = "198.51.100.11";
    private const int AnyPort = 4711;
    private const int StaticPort = 30000;
    private const int InternalPort = 8080;
    private static readonly TimeSpan Promise = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task GatewayKilled_IdleStockPeers_StaticForwardAndDedicatedAddressAnswerWithinFiveSeconds()
    {
        await using var lab = await GatewayLab.StartAsync(new GatewayLabOptions
        {
            ExtraForwarding = "forward_all_dedicated_ports = true",
            ExtraPeerA = $"dedicated_address = \"{DedicatedAddress}\"",
            ExtraPeerB = $"""
                [[peer.forward]]
                protocol      = "tcp"
                external_port = {StaticPort}
                internal_port = {InternalPort}
                """,
        });
        await lab.Gateway.RunCheckedAsync("ip", "address", "add", $"{DedicatedAddress}/24", "dev", "eth0");
        await using var a = await Probes.ListenAsync(lab.ClientA, "tcp", AnyPort);
        await using var b = await Probes.ListenAsync(lab.ClientB, "tcp", InternalPort);
        Assert.Equal(("clienta from 192.0.2.100", "clientb from 192.0.2.100"), await AskBothUntilAsync(lab, TimeSpan.FromSeconds(30)));
        await lab.WaitForRememberedAsync(lab.PublicKeyA, lab.PublicKeyB);

        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();
        var restarted = Stopwatch.StartNew();

        // Every probe that answers here was sent within five seconds of the restarted gateway being up.
        var answers = await AskBothUntilAsync(lab, Promise);
        Assert.True(answers == ("clienta from 192.0.2.100", "clientb from 192.0.2.100"),
            $"after {restarted.Elapsed.TotalSeconds:F1} s: dedicated address {answers.A ?? "dark"}, static forward {answers.B ?? "dark"}\n{lab.Diagnostics()}");
    }

    [Fact]
    public async Task GatewayKilled_InitiationCapturedBeforeReplayedAfter_NotAnsweredAndEndpointStays()
    {
        await using var lab = await GatewayLab.StartAsync();
        var floorBefore = await StoredFloorAsync(lab, lab.PublicKeyA, previous: null);

        // A handshakes anew while the gateway's public link is captured; the gateway keeps the new floor.
        var capture = Path.Combine(lab.Network.CreateTempDirectory(), "initiation.pcap");
        await using (var tcpdump = lab.Gateway.Start("tcpdump", "-i", "eth0", "-n", "-U", "-c", "1", "-w", capture,
            $"udp dst port {ListenPort} and src host {lab.ClientA.Address} and udp[8] = 1"))
        {
            await Wait.ForStartAsync(tcpdump, "tcpdump", () => Task.FromResult(tcpdump.Output.Contains("listening on", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(50), "did not listen");
            await lab.ReconnectAsync(lab.TunnelA);
            Assert.True(await tcpdump.WaitForExitAsync(TimeSpan.FromSeconds(15)), $"no initiation captured\n{tcpdump}");
        }
        await StoredFloorAsync(lab, lab.PublicKeyA, previous: floorBefore);

        await lab.KillGatewayAsync();
        await lab.StartGatewayAsync();

        // Someone on the internet replays A's captured initiation.
        var replay = await lab.Remote.RunCheckedAsync("python3", "-c", Replay, capture, PublicAddress, ListenPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("silent", replay.Trim());
        var endpoints = await lab.Gateway.RunCheckedAsync("wg", "show", lab.GatewayInterface, "endpoints");
        Assert.DoesNotContain("192.0.2.100", endpoints, StringComparison.Ordinal);
    }

    /// <summary>Asks the dedicated address's every-port forward (A) and the static forward (B) until both answer or time is up.</summary>
    private static async Task<(string? A, string? B)> AskBothUntilAsync(GatewayLab lab, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        string? a = null, b = null;
        do
        {
            a ??= await Probes.AskAsync(lab.Remote, "tcp", DedicatedAddress, AnyPort, timeoutSeconds: 1);
            b ??= await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, StaticPort, timeoutSeconds: 1);
        }
        while ((a is null || b is null) && DateTime.UtcNow < deadline);
        return (a, b);
    }

    /// <summary>
    /// Waits until the gateway's store holds a replay floor for <paramref name="publicKey"/> other than
    /// <paramref name="previous"/> (null: any floor), and returns it (hex).
    /// </summary>
    private static async Task<string> StoredFloorAsync(GatewayLab lab, string publicKey, string? previous)
    {
        string floor = "";
        var stored = await Wait.UntilAsync(async () =>
        {
            var result = await lab.Gateway.RunAsync(["python3", "-c", ReadFloor, lab.StorePath, publicKey], RunOptions.Default);
            floor = result.Stdout.Trim();
            return result.Succeeded && floor.Length > 0 && floor != previous;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(250));
        Assert.True(stored, $"the store never held {(previous is null ? "a" : "a new")} replay floor for A\n{lab.Diagnostics()}");
        return floor;
    }

    private const string ReadFloor = """
        import sqlite3, sys
        db = sqlite3.connect(f'file:{sys.argv[1]}?mode=ro', uri=True)
        row = db.execute('SELECT hex(tai64n) FROM replay_floors WHERE public_key = ?', (sys.argv[2],)).fetchone()
        print(row[0] if row else '')
        """;

    /// <summary>Sends the UDP payload of the one packet in a pcap (Ethernet, IPv4) and says whether anything answered.</summary>
    private const string Replay = """
        import socket, struct, sys
        data = open(sys.argv[1], 'rb').read()
        length = struct.unpack('<I', data[32:36])[0]
        frame = data[40:40 + length]
        ip = frame[14:]
        udp = ip[(ip[0] & 15) * 4:]
        payload = udp[8:]
        assert len(payload) == 148 and payload[0] == 1, 'not an initiation'
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(payload, (sys.argv[2], int(sys.argv[3])))
        try:
            s.recvfrom(2048)
            print('answered')
        except socket.timeout:
            print('silent')
        """;
}
