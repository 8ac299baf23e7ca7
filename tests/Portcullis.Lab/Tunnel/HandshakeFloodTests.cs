using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// Issue 13: our responder under a handshake flood from 150 addresses (bench/handshake-flood.py: initiations with a
/// valid MAC1, each a Diffie-Hellman for a responder that does not defend itself). A stock wireguard-go client must
/// connect within one cookie round while the flood goes on, and a stock client connected before it must keep
/// forwarding. bench/handshake-flood measures the same against wireguard-go as the responder.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class HandshakeFloodTests
{
    private const int FloodSources = 150;
    private const int ListenPort = 51820;
    private const string ResponderInner = "10.99.0.1";
    private static readonly TimeSpan OneCookieRound = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Flood_150SourcesValidMac1_StockClientConnectsWithinOneCookieRoundAndSettledClientForwards()
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, "198.51.100.10");
        var settled = await network.AddHostAsync("settled", LabSegment.Home, "203.0.113.21");
        var newcomer = await network.AddHostAsync("newcomer", LabSegment.Home, "203.0.113.22");
        var flood = await network.AddHostAsync("flood", LabSegment.Gateway, "198.51.100.100");
        var sources = await AddFloodSourcesAsync(flood);

        var responderKeys = await WgTools.GenerateKeysAsync();
        var settledKeys = await WgTools.GenerateKeysAsync();
        var newcomerKeys = await WgTools.GenerateKeysAsync();
        var responder = await WireGuardDevice.StartAsync(gateway, WireGuardImplementation.Ours);
        await responder.SetConfAsync($"""
            [Interface]
            PrivateKey = {responderKeys.PrivateKey}
            ListenPort = {ListenPort}

            [Peer]
            PublicKey = {settledKeys.PublicKey}
            AllowedIPs = 10.99.0.2/32

            [Peer]
            PublicKey = {newcomerKeys.PublicKey}
            AllowedIPs = 10.99.0.3/32
            """);
        await responder.UpAsync($"{ResponderInner}/24");
        await StartStockClientAsync(settled, settledKeys, responderKeys, gateway, "10.99.0.2");
        var newcomerClient = await StartStockClientAsync(newcomer, newcomerKeys, responderKeys, gateway, "10.99.0.3");
        Assert.True(await settled.PingUntilAsync(ResponderInner, TimeSpan.FromSeconds(10)), $"no session before the flood\n{network.Diagnostics()}");

        // The flood runs longer than every check below; the network ends it.
        var flooder = flood.Start(
            "python3", Path.Combine(LabBinaries.RepositoryRoot, "bench", "handshake-flood.py"),
            "--target", $"{gateway.Address}:{ListenPort}", "--public-key", responderKeys.PublicKey,
            "--sources", string.Join(',', sources), "--rate", "50000", "--seconds", "60");
        await Wait.ForStartAsync(flooder, "the flooder", () => Task.FromResult(flooder.Output.Contains("flooding", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100), "did not start flooding");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(responder.Process.Output.Contains("under load", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(15), TimeSpan.FromMilliseconds(100)), $"the responder never said it was under load\n{network.Diagnostics()}");

        // The newcomer's first packet starts its handshake: a cookie reply, then (after REKEY_TIMEOUT) MAC2 and a response.
        var clock = Stopwatch.StartNew();
        newcomer.Start("ping", "-n", "-i", "0.5", "-W", "1", ResponderInner);
        var connected = await Wait.UntilAsync(
            async () => (await newcomerClient.ShowPeersAsync()).Single().LatestHandshake is not null,
            OneCookieRound, TimeSpan.FromMilliseconds(100));
        var connectTime = clock.Elapsed;
        Assert.True(connected, $"the stock client did not connect within {OneCookieRound.TotalSeconds} s of flood\n{network.Diagnostics()}");

        var answered = await PingsAnsweredAsync(settled, 5);
        Assert.True(answered >= 3, $"the settled client's session answered {answered} of 5 pings during the flood\n{network.Diagnostics()}");
        Assert.True(await newcomer.PingAsync(ResponderInner), $"the newcomer's new session does not forward\n{network.Diagnostics()}");
        Assert.False(flooder.HasExited, $"the flood ended before the checks did:\n{flooder.Output}");
        Assert.True(connectTime <= OneCookieRound, $"connected after {connectTime}");
    }

    /// <summary>Gives the flood host 149 more addresses (one <c>ip -batch</c>) and returns all 150.</summary>
    private static async Task<IReadOnlyList<string>> AddFloodSourcesAsync(LabHost flood)
    {
        var sources = new List<string> { flood.Address! };
        var batch = new StringBuilder();
        for (var i = 1; i < FloodSources; i++)
        {
            var address = LabSegment.Gateway.Ipv4(100 + i);
            sources.Add(address);
            batch.Append(CultureInfo.InvariantCulture, $"addr add {address}/24 dev eth0\n");
        }
        await ProcessRunner.RunAsync(["ip", "-n", flood.Namespace, "-batch", "-"], RunOptions.Default with { Check = true }, batch.ToString());
        return sources;
    }

    /// <summary>Stock wireguard-go with the responder as its only peer, up but idle until something is sent.</summary>
    private static async Task<WireGuardDevice> StartStockClientAsync(LabHost host, WireGuardKeys keys, WireGuardKeys responder,
        LabHost gateway, string address)
    {
        var device = await WireGuardDevice.StartAsync(host, WireGuardImplementation.WireGuardGo);
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {keys.PrivateKey}

            [Peer]
            PublicKey = {responder.PublicKey}
            Endpoint = {gateway.Address}:{ListenPort}
            AllowedIPs = {ResponderInner}/32
            """);
        await device.UpAsync($"{address}/24");
        return device;
    }

    private static async Task<int> PingsAnsweredAsync(LabHost host, int count)
    {
        var result = await host.RunAsync("ping", "-n", "-q", "-c", count.ToString(CultureInfo.InvariantCulture), "-i", "0.2", "-W", "1", ResponderInner);
        var match = Received().Match(result.Stdout);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    [GeneratedRegex(@"(\d+) received")]
    private static partial Regex Received();
}
