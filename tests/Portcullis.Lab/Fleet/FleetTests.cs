using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Operations;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Fleet;

/// <summary>
/// Two real gateways on one real PostgreSQL, stock WireGuard clients, natpmpc: a fleet as an operator runs it. Every
/// wait is for something observable (a ping, an answer, a log line, the ruleset), bounded.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class FleetTests
{
    private const string TunnelAlice = "10.99.0.2";
    private const string TunnelBob = "10.99.0.3";
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(10);
    private const string PolicyApplied = "Forwarding policy overrides set";

    private static Task<bool> UntilAsync(Func<Task<bool>> condition, double seconds = 10) =>
        Wait.UntilAsync(condition, TimeSpan.FromSeconds(seconds), TimeSpan.FromMilliseconds(100));

    [Fact]
    public async Task Fleet_PeerAddedOnA_ServedByB_ForwardFollowsThePeer_PolicyPerGateway_PortsReservedEverywhere()
    {
        await using var lab = await FleetLab.StartAsync();
        // Started at the same moment against an empty database: exactly one migrated, both run.
        Assert.Equal(1, FleetLab.Count(lab.GatewayA.Output, "migrated from schema version 0") + FleetLab.Count(lab.GatewayB.Output, "migrated from schema version 0"));
        Assert.Equal("1", await lab.Postgres.QueryAsync("fleet", "SELECT count(*) FROM portcullis_schema"));

        var aliceKeys = await WgTools.GenerateKeysAsync();
        var bobKeys = await WgTools.GenerateKeysAsync();
        await lab.CliCheckedAsync(lab.A, "peer", "add", "alice", "--public-key", aliceKeys.PublicKey);
        await lab.CliCheckedAsync(lab.A, "peer", "add", "bob", "--public-key", bobKeys.PublicKey);

        // Added through A's API, both connect to B (StockClient waits for a ping through B's tunnel).
        var alice = await lab.ConnectAsync(lab.Alice, aliceKeys, TunnelAlice, lab.B);
        await lab.ConnectAsync(lab.Bob, bobKeys, TunnelBob, lab.B);
        await Probes.ListenAsync(lab.Remote, "tcp", 7000);
        Assert.Equal("remote from 198.51.100.20", await Probes.AskAsync(lab.Alice, "tcp", "192.0.2.100", 7000));

        // A fleet-wide static forward, added on A: live on B where alice is, dark on A.
        await Probes.ListenAsync(lab.Alice, "tcp", 8080);
        await lab.CliCheckedAsync(lab.A, "forward", "add", "alice", "tcp", "30000", "8080");
        Assert.True(await UntilAsync(async () => await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressB, 30000, 1) == "alice from 192.0.2.100"),
            $"the forward never answered on B\n{lab.Diagnostics()}");
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, 30000, 1));
        Assert.Contains("30000 : 10.99.0.2 . 8080", await lab.RulesetAsync(lab.B), StringComparison.Ordinal);
        Assert.DoesNotContain("30000 : 10.99.0.2 . 8080", await lab.RulesetAsync(lab.A), StringComparison.Ordinal);

        // The reserved port is never leased dynamically, not even to a peer that suggests it.
        var onB = await NatPmpClient.MapAsync(lab.Bob, "tcp", 30000, 9000, 120);
        Assert.True(onB.Mapped, onB.ToString());
        Assert.NotEqual(30000, onB.PublicPort);

        // The operator's view, asked of A: where alice is, and both gateways up.
        Assert.True(await UntilAsync(async () => (await lab.CliJsonAsync(lab.A, "peer", "show", "alice")).GetProperty("gateway").GetString() == "b"),
            "A's peer list never said alice is on b");
        var gateways = (await lab.CliJsonAsync(lab.A, "gateway", "list")).EnumerateArray().ToList();
        Assert.Equal(["a", "b"], gateways.Select(g => g.GetProperty("name").GetString()));
        Assert.All(gateways, g => Assert.True(g.GetProperty("up").GetBoolean()));

        // Alice moves to A: the forward follows her there, and B's goes dark once her session there ends.
        await lab.MoveAsync(alice, lab.B, lab.A);
        Assert.True(await UntilAsync(async () => await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, 30000, 1) == "alice from 192.0.2.100"),
            $"the forward never answered on A\n{lab.Diagnostics()}");
        Assert.True(await UntilAsync(async () => !(await lab.RulesetAsync(lab.B)).Contains("30000 : 10.99.0.2 . 8080", StringComparison.Ordinal), 30),
            "B kept the forward after alice left");
        var onA = await NatPmpClient.MapAsync(lab.Alice, "tcp", 30000, 9000, 120);
        Assert.True(onA.Mapped, onA.ToString());
        Assert.NotEqual(30000, onA.PublicPort);

        // Policy layers end to end, each set through the other gateway: the fleet's port range for every gateway, A's own
        // range on top of it. Each is waited for as the log line of the gateway that applies it.
        var policyOnB = FleetLab.Count(lab.GatewayB.Output, PolicyApplied);
        await lab.CliCheckedAsync(lab.A, "policy", "set", "--port-range", "40000-40099");
        Assert.True(await lab.LoggedAsync(lab.B, PolicyApplied, policyOnB + 1, Propagation.TotalSeconds), lab.GatewayB.Output);
        var policyOnA = FleetLab.Count(lab.GatewayA.Output, PolicyApplied);
        await lab.CliCheckedAsync(lab.B, "policy", "set", "--gateway", "a", "--port-range", "45000-45009");
        Assert.True(await lab.LoggedAsync(lab.A, PolicyApplied, policyOnA + 1, Propagation.TotalSeconds), lab.GatewayA.Output);
        var rangedOnA = await NatPmpClient.MapAsync(lab.Alice, "tcp", 0, 9003, 120);
        var rangedOnB = await NatPmpClient.MapAsync(lab.Bob, "tcp", 0, 9004, 120);
        Assert.True(rangedOnA.PublicPort is >= 45000 and <= 45009, $"A: {rangedOnA}");
        Assert.True(rangedOnB.PublicPort is >= 40000 and <= 40099, $"B: {rangedOnB}");

        // A port bob leases dynamically on B becomes a fleet-wide forward of alice's (through A): B revokes bob's
        // lease at once — two peers never hold one address and port — and the forward answers on A, where alice is.
        var leased = $"{rangedOnB.PublicPort} : {TunnelBob} . 9004";
        Assert.Contains(leased, await lab.RulesetAsync(lab.B), StringComparison.Ordinal);
        await lab.CliCheckedAsync(lab.A, "forward", "add", "alice", "tcp", $"{rangedOnB.PublicPort}", "8080");
        Assert.True(await UntilAsync(async () => !(await lab.RulesetAsync(lab.B)).Contains(leased, StringComparison.Ordinal)),
            $"B kept bob's lease on a port the fleet reserved\n{lab.Diagnostics()}");
        Assert.True(await UntilAsync(async () =>
                await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, rangedOnB.PublicPort!.Value, 1) == "alice from 192.0.2.100"),
            $"the reserved port never answered on A\n{lab.Diagnostics()}");
        var again = await NatPmpClient.MapAsync(lab.Bob, "tcp", 0, 9004, 120);
        Assert.True(again.Mapped, again.ToString());
        Assert.NotEqual(rangedOnB.PublicPort, again.PublicPort);

        // Forwarding off on B only: B refuses NAT-PMP, A serves.
        await lab.CliCheckedAsync(lab.A, "policy", "set", "--gateway", "b", "--forwarding", "off");
        Assert.True(await UntilAsync(async () => (await NatPmpClient.MapAsync(lab.Bob, "tcp", 0, 9001, 120)).ErrorCode == NatPmpClient.NotAuthorized),
            $"B kept granting ports\n{lab.Diagnostics()}");
        var stillA = await NatPmpClient.MapAsync(lab.Alice, "tcp", 0, 9002, 120);
        Assert.True(stillA.Mapped, stillA.ToString());
        Assert.Contains("off", await lab.CliCheckedAsync(lab.A, "policy", "get", "--gateway", "b"), StringComparison.Ordinal);

        // The database migrated by a newer build that this one cannot read: a gateway of this build refuses to start
        // (exit 1, both versions named) before it makes anything, and leaves the database as it was.
        await lab.Postgres.QueryAsync("fleet", "UPDATE portcullis_schema SET version = 99, compatible_from = 99");
        var tooNew = await lab.A.RunAsync([LabBinaries.Portcullis, "gateway", "--config", lab.ConfigA],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });
        Assert.Equal(1, tooNew.ExitCode);
        Assert.Contains("schema version 99, newer than this build knows", tooNew.Stderr, StringComparison.Ordinal);
        Assert.Equal("99", await lab.Postgres.QueryAsync("fleet", "SELECT version FROM portcullis_schema"));
    }

    [Fact]
    public async Task Fleet_DatabaseAway_GatewaysServe_WritesAre503_ChangesFlowWhenBack_DisabledWhileCutOffIsCutOffOnReconnect()
    {
        await using var lab = await FleetLab.StartAsync();
        var aliceKeys = await WgTools.GenerateKeysAsync();
        var bobKeys = await WgTools.GenerateKeysAsync();
        await lab.CliCheckedAsync(lab.A, "peer", "add", "alice", "--public-key", aliceKeys.PublicKey);
        await lab.CliCheckedAsync(lab.A, "peer", "add", "bob", "--public-key", bobKeys.PublicKey);
        await lab.ConnectAsync(lab.Alice, aliceKeys, TunnelAlice, lab.A);
        await lab.ConnectAsync(lab.Bob, bobKeys, TunnelBob, lab.B);
        await Probes.ListenAsync(lab.Remote, "tcp", 7000);
        await Probes.ListenAsync(lab.Alice, "tcp", 8080);
        await lab.CliCheckedAsync(lab.B, "forward", "add", "alice", "tcp", "30000", "8080");
        Assert.True(await UntilAsync(async () => await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, 30000, 1) == "alice from 192.0.2.100"),
            $"the forward never answered on A\n{lab.Diagnostics()}");

        // Operations see the fleet: each gateway's series carry its name, and it is ready.
        var tokenA = Path.Combine(lab.Directory, "admin-a.token");
        var metrics = await AdminHttp.GetAsync(lab.A, "/metrics", tokenA);
        Assert.Equal(200, metrics.Status);
        Assert.Contains("portcullis_peers_connected{gateway=\"a\"}", metrics.Body, StringComparison.Ordinal);
        Assert.Equal((200, "{\"status\":\"ok\",\"reason\":null}"), Compact(await AdminHttp.GetAsync(lab.A, "/readyz", null)));

        // PostgreSQL stops: both gateways notice, and keep serving what they hold.
        await lab.Postgres.StopAsync();
        Assert.True(await lab.LoggedAsync(lab.A, "lost the database"), lab.GatewayA.Output);
        // Ready but degraded (200, so a load balancer keeps sending peers): a fleet's gateway serves on without it.
        Assert.Equal((200, "{\"status\":\"degraded\",\"reason\":\"store_unreachable\"}"),
            Compact(await AdminHttp.GetAsync(lab.A, "/readyz", null)));
        Assert.True(await lab.LoggedAsync(lab.B, "lost the database"), lab.GatewayB.Output);
        Assert.Equal("alice from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, 30000));
        Assert.Equal("remote from 198.51.100.20", await Probes.AskAsync(lab.Bob, "tcp", "192.0.2.100", 7000));
        var refused = await lab.CliAsync(lab.A, "peer", "add", "carol", "--public-key", (await WgTools.GenerateKeysAsync()).PublicKey);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("503", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("database is away", refused.Stderr, StringComparison.Ordinal);
        // Reads of peers answer from what A last knew, and say so.
        var lastKnown = await lab.CliAsync(lab.A, "peer", "list", "--json");
        Assert.True(lastKnown.Succeeded, lastKnown.ToString());
        Assert.Contains("peers as gateway a last knew them", lastKnown.Stderr, StringComparison.Ordinal);
        using (var peers = System.Text.Json.JsonDocument.Parse(lastKnown.Stdout))
        {
            var byName = peers.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
            Assert.Equal(["alice", "bob"], byName.Keys.Order());
            Assert.True(byName["alice"].GetProperty("connected").GetBoolean());
            Assert.Equal("a", byName["alice"].GetProperty("gateway").GetString());
            Assert.True(byName["bob"].GetProperty("enabled").GetBoolean());
        }

        // Back: both reconnect and catch up; a change made then reaches B.
        await lab.Postgres.StartAsync();
        Assert.True(await lab.LoggedAsync(lab.A, "caught up with the fleet", 1, 30), lab.GatewayA.Output);
        Assert.True(await lab.LoggedAsync(lab.B, "caught up with the fleet", 1, 30), lab.GatewayB.Output);
        await lab.CliCheckedAsync(lab.A, "peer", "add", "carol", "--public-key", (await WgTools.GenerateKeysAsync()).PublicKey);
        Assert.True(await lab.LoggedAsync(lab.B, "Peer carol (", 1, Propagation.TotalSeconds), lab.GatewayB.Output);
        Assert.Equal(1, FleetLab.Count(lab.GatewayA.Output, "Peer carol (")); // its own change, heard back, applied once

        // B alone cut off from the database; bob is disabled meanwhile through A. B cannot know, so bob stays on...
        var lost = FleetLab.Count(lab.GatewayB.Output, "lost the database");
        var caughtUp = FleetLab.Count(lab.GatewayB.Output, "caught up with the fleet");
        await lab.CutOffFromDatabaseAsync(lab.B, cut: true);
        Assert.True(await lab.LoggedAsync(lab.B, "lost the database", lost + 1, 30),
            $"{lab.GatewayB.Output}\n{await lab.B.RunCheckedAsync("nft", "list", "table", "ip", "labcut")}\n{await lab.B.RunCheckedAsync("ss", "-tn")}");
        await lab.CliCheckedAsync(lab.A, "peer", "disable", "bob");
        Assert.True(await lab.Bob.PingAsync(FleetLab.TunnelGateway), "bob was cut off before B could know");
        // ...until B reaches the database again: then it is cut off there.
        await lab.CutOffFromDatabaseAsync(lab.B, cut: false);
        Assert.True(await lab.LoggedAsync(lab.B, "caught up with the fleet", caughtUp + 1, 30), lab.GatewayB.Output);
        Assert.True(await lab.LoggedAsync(lab.B, "Peer bob enabled: False", 1, Propagation.TotalSeconds), lab.GatewayB.Output);
        Assert.True(await UntilAsync(async () => !await lab.Bob.PingAsync(FleetLab.TunnelGateway)), "bob still reaches B");
        Assert.Equal("alice from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", FleetLab.AddressA, 30000));
    }

    private static (int Status, string Body) Compact((int Status, string Body) answer) =>
        (answer.Status, System.Text.RegularExpressions.Regex.Replace(answer.Body, @"\s", ""));
}
