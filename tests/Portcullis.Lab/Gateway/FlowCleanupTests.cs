using System.Globalization;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using Xunit.Abstractions;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// A removed mapping's established flow ends right after the removal (issue 12 part 4), through the real daemon:
/// nc (netcat-openbsd) on the remote host holds a TCP connection through a natpmpc mapping to nc listening on client
/// A; natpmpc deletes the mapping. Both ends of the interval are stamped by stock observers as the kernel saw them:
/// tcpdump on A's tunnel interface stamps the delete request leaving A, conntrack -E on the gateway stamps the flow's
/// DESTROY. Request → ended is an upper bound of commit → ended; the test waits for both events with a generous
/// timeout, then checks the interval.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class FlowCleanupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task NatPmpDelete_StockClientsEstablishedFlow_EndedWithinBoundOfTheRequest()
    {
        await using var lab = await GatewayLab.StartAsync();
        await using var listener = lab.ClientA.Start("nc", "-l", "8080");
        var port = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var portText = port.ToString(CultureInfo.InvariantCulture);
        await using var watch = await WatchConntrackAsync(lab.Gateway);
        // The shell only keeps nc's input open after the greeting; the connection's life is nc's.
        await using var client = lab.Remote.Start("sh", "-c", $"(echo before; exec sleep 600) | nc {PublicAddress} {portText}");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(listener.Output.Contains("before", StringComparison.Ordinal)), Generous, Poll),
            $"the remote's nc did not reach A through the mapping\n{client}\n{listener}\n{lab.Diagnostics()}");
        var flow = $"src=192.0.2.100 dst={PublicAddress} ";
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Lines(watch, "[NEW]", flow, portText).Any()), Generous, Poll), watch.ToString());
        await using var capture = lab.ClientA.Start("tcpdump", "-tt", "-n", "-l", "-i", lab.TunnelA.Interface, "udp", "port", "5351");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(capture.Output.Contains("listening on", StringComparison.Ordinal)), Generous, Poll),
            capture.ToString());

        var deleted = await NatPmpClient.MapAsync(lab.ClientA, "tcp", port, 8080, 0);

        Assert.Equal(0, deleted.Lifetime);
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Lines(watch, "[DESTROY]", flow, portText).Any()), Generous, Poll),
            $"the old flow was never ended\n{watch}");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(Requests(capture).Any()), Generous, Poll), capture.ToString());
        var ended = Stamp(Lines(watch, "[DESTROY]", flow, portText).First());
        var requested = Requests(capture).Select(Stamp).Last(); // natpmpc asks for the public address first, then deletes
        var survived = TimeSpan.FromSeconds(ended - requested);
        var answered = Answers(capture).Select(Stamp).LastOrDefault(double.NaN);
        output.WriteLine($"delete request → old flow ended: {survived.TotalMilliseconds:F2} ms (request → answer {(answered - requested) * 1000:F2} ms)");
        Assert.True(survived <= Bound, $"the old flow lived {survived.TotalMilliseconds:F1} ms after the delete request (bound {Bound.TotalMilliseconds} ms)");
    }

    // conntrack -E -o timestamp: "[1796654994.987386]\t[DESTROY] tcp 6 … src=… dst=… sport=… dport=PORT …".
    private static IEnumerable<string> Lines(LabProcess watch, string kind, string flow, string port) =>
        watch.Output.Split('\n').Where(l => l.Contains(kind, StringComparison.Ordinal) && l.Contains(flow, StringComparison.Ordinal)
            && l.Contains($" dport={port} ", StringComparison.Ordinal));

    // tcpdump -tt: "1796654994.939603 IP 10.99.0.2.40000 > 10.99.0.1.5351: UDP, length 12" (12: a mapping request).
    private static IEnumerable<string> Requests(LabProcess capture) =>
        capture.Output.Split('\n').Where(l => l.Contains($"> {GatewayTunnelAddress}.5351: UDP, length 12", StringComparison.Ordinal));

    // The gateway's answers: "… IP 10.99.0.1.5351 > 10.99.0.2.40000: UDP, length 16".
    private static IEnumerable<string> Answers(LabProcess capture) =>
        capture.Output.Split('\n').Where(l => l.Contains($"IP {GatewayTunnelAddress}.5351 > ", StringComparison.Ordinal));

    private static double Stamp(string line) =>
        double.Parse(StampPattern().Match(line).Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture);

    // conntrack -E, subscribed once it prints a marker entry's NEW line (inserted until it does).
    private static async Task<LabProcess> WatchConntrackAsync(LabHost gateway)
    {
        var watch = gateway.Start("conntrack", "-E", "-e", "NEW,DESTROY", "-o", "timestamp");
        for (var marker = 1; marker <= 60; marker++)
        {
            var sport = marker.ToString(CultureInfo.InvariantCulture);
            await gateway.RunCheckedAsync("conntrack", "-I", "-p", "udp", "-s", "192.0.2.1", "-d", "192.0.2.2", "--sport", sport, "--dport", "9", "-t", "5");
            if (await Wait.UntilAsync(() => Task.FromResult(watch.Output.Contains($"sport={sport} dport=9 ", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(1), Poll))
            {
                return watch;
            }
        }
        await watch.DisposeAsync();
        throw new Xunit.Sdk.XunitException($"conntrack -E printed no event\n{watch}");
    }

    [GeneratedRegex(@"^\[?(\d+\.\d+)")]
    private static partial Regex StampPattern();
}
