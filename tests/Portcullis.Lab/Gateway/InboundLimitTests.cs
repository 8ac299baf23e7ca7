using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Operations;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;
using static Portcullis.Lab.Operations.Exposition;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// [forwarding] inbound_new_per_second and inbound_max_connections as someone on the internet meets them: hping3 sends
/// SYNs faster than the rate allows and gets SYN-ACKs for exactly as many as the rate grants; netcat holds the cap's
/// worth of connections and the next one does not get through. /metrics counts both by reason, naming no peer or port.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class InboundLimitTests
{
    // Accepts and holds every TCP connection, greeting each, so the connections stay established.
    private const string HoldingListener = """
        import socket, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(('0.0.0.0', int(sys.argv[1])))
        s.listen(16)
        print('listening', flush=True)
        held = []
        while True:
            c, a = s.accept()
            c.sendall(b'held\n')
            held.append(c)
        """;

    private static GatewayLabOptions Options(string limit) => new()
    {
        ExtraForwarding = limit,
        ExtraTables = """
            [admin]
            listen     = "127.0.0.1:8351"
            token_file = "admin.token"
            """,
    };

    [Fact]
    public async Task InboundRate_MoreSynsThanTheRateWithinASecond_OnlyTheRateAnsweredRestDroppedAndCounted()
    {
        const int Rate = 3;
        const int Sent = 6;
        await using var lab = await GatewayLab.StartAsync(Options($"inbound_new_per_second = {Rate}"));
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        Assert.Equal(0, Value(await MetricsLab.ScrapeAsync(lab), "portcullis_inbound_dropped_total", "reason=rate"));

        // Six SYNs 2 ms apart, each from its own source port (a new connection each): the bucket holds three and
        // refills one per 333 ms, far slower than they come.
        var hping = await lab.Remote.RunAsync(
            ["hping3", "-S", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", Sent.ToString(CultureInfo.InvariantCulture),
             "-i", "u2000", PublicAddress],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        var answered = SynAck().Count(hping.Stdout);

        Assert.True(answered == Rate, $"hping3 got {answered} SYN-ACKs, expected {Rate}:\n{hping.Stdout}{hping.Stderr}");
        var samples = await MetricsLab.ScrapeAsync(lab);
        Assert.Equal(Sent - Rate, Value(samples, "portcullis_inbound_dropped_total", "reason=rate"));
        Assert.Equal(0, Value(samples, "portcullis_inbound_dropped_total", "reason=connections"));
        // The family names reasons only: no peer, address or port label.
        Assert.All(samples.Where(s => s.Name == "portcullis_inbound_dropped_total"), s => Assert.Equal(["reason"], s.Labels.Keys));

        // The rate is per second, not a ban: once the bucket refilled, a real connection gets through again.
        Assert.True(await Wait.UntilAsync(
            async () => await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, port) == "clienta from 192.0.2.100",
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(400)), lab.Diagnostics());
    }

    [Fact]
    public async Task PolicySet_RateAtRunTime_InForceAtOnceAndGoneWhenSetBackToDefault()
    {
        await using var lab = await GatewayLab.StartAsync(Options(""));
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);

        var set = await PolicyAsync(lab, "set", "--inbound-new-per-second", "2");
        Assert.True(set.Succeeded, set.ToString());
        Assert.Contains("inbound new/s:       2  (set over the API)", set.Stdout, StringComparison.Ordinal);
        Assert.Equal(2, await SynAcksAsync(lab, port, 5));
        Assert.Equal(3, Value(await MetricsLab.ScrapeAsync(lab), "portcullis_inbound_dropped_total", "reason=rate"));

        var back = await PolicyAsync(lab, "set", "--inbound-new-per-second", "default");
        Assert.True(back.Succeeded, back.ToString());
        Assert.Equal(5, await SynAcksAsync(lab, port, 5));
        Assert.Equal(3, Value(await MetricsLab.ScrapeAsync(lab), "portcullis_inbound_dropped_total", "reason=rate"));
    }

    [Fact]
    public async Task InboundConnections_CapHeldOpen_OneMoreDroppedAndCounted()
    {
        const int Cap = 2;
        await using var lab = await GatewayLab.StartAsync(Options($"inbound_max_connections = {Cap}"));
        await using var listener = lab.ClientA.Start("python3", "-c", HoldingListener, "8080");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(listener.Output.Contains("listening", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)), listener.ToString());
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var portText = port.ToString(CultureInfo.InvariantCulture);

        // netcat (OpenBSD's) holds the cap's worth of connections open; each is up once the listener's greeting arrived.
        var held = new List<LabProcess>();
        try
        {
            for (var i = 0; i < Cap; i++)
            {
                var nc = lab.Remote.Start("nc", "-d", PublicAddress, portText);
                held.Add(nc);
                Assert.True(await Wait.UntilAsync(() => Task.FromResult(nc.Output.Contains("held", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50)), $"connection {i + 1} was not established: {nc}\n{lab.Diagnostics()}");
            }

            // One more: its SYNs (and their retransmissions) are dropped, so the connect times out.
            var extra = await lab.Remote.RunAsync(["nc", "-z", "-w", "3", PublicAddress, portText],
                RunOptions.Default with { Timeout = TimeSpan.FromSeconds(20) });
            Assert.False(extra.Succeeded, $"connection {Cap + 1} got through: {extra.Stdout}{extra.Stderr}");

            var samples = await MetricsLab.ScrapeAsync(lab);
            Assert.True(Value(samples, "portcullis_inbound_dropped_total", "reason=connections") >= 1,
                string.Join('\n', samples.Where(s => s.Name.StartsWith("portcullis_inbound", StringComparison.Ordinal))));
            Assert.Equal(0, Value(samples, "portcullis_inbound_dropped_total", "reason=rate"));
            // The held ones are untouched by the refusal.
            Assert.All(held, nc => Assert.False(nc.HasExited, nc.ToString()));
        }
        finally
        {
            foreach (var nc in held)
                await nc.DisposeAsync();
        }
    }

    private static Task<CommandResult> PolicyAsync(GatewayLab lab, params string[] arguments) =>
        lab.Gateway.RunAsync([LabBinaries.Portcullis, "policy", .. arguments, "--config", lab.ConfigPath],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });

    // SYNs 2 ms apart from the remote host, each a new connection; the number of SYN-ACKs that came back.
    private static async Task<int> SynAcksAsync(GatewayLab lab, int port, int count)
    {
        var hping = await lab.Remote.RunAsync(
            ["hping3", "-S", "-p", port.ToString(CultureInfo.InvariantCulture), "-c", count.ToString(CultureInfo.InvariantCulture),
             "-i", "u2000", PublicAddress],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        return SynAck().Count(hping.Stdout);
    }

    [GeneratedRegex(@"flags=SA\b")]
    private static partial Regex SynAck();
}
