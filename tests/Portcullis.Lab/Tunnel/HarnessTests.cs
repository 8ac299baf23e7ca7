using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>The lab itself: routing across segments, no route where there is none, and nothing left behind.</summary>
[Collection(LabCollection.Name)]
public sealed class HarnessTests
{
    [Fact]
    public async Task RemoteHost_PingsLanHost_ReachesItThroughRouter()
    {
        await using var network = await LabNetwork.CreateAsync();
        var remote = await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100");
        var lan = await network.AddHostAsync("lan", LabSegment.Home, "203.0.113.30");

        Assert.True(await remote.PingAsync(lan.Address!), "IPv4 across the router");
        Assert.True(await remote.PingAsync(lan.Address6!), "IPv6 across the router");

        // One hop: the router decremented the TTL, so the path really went through it.
        var trace = await remote.RunCheckedAsync("ping", "-n", "-c", "1", "-W", "1", lan.Address!);
        Assert.Contains("ttl=63", trace, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LanHost_AddressWithoutRoute_IsUnreachable()
    {
        await using var network = await LabNetwork.CreateAsync();
        var lan = await network.AddHostAsync("lan", LabSegment.Home, "203.0.113.30");

        // 100.64.0.1 (shared address space) is on no segment: the router has no route for it.
        Assert.True(await lan.PingAsync(LabSegment.Home.RouterAddress), "the router itself answers");
        Assert.False(await lan.PingAsync("100.64.0.1"), "an unrouted address must not answer");
        var route = await network.Router.RunAsync("ip", "route", "get", "100.64.0.1");
        Assert.False(route.Succeeded, $"router should have no route: {route}");
    }

    [Fact]
    public async Task DisposeAsync_WithRunningProcess_RemovesNamespacesAndProcesses()
    {
        var network = await LabNetwork.CreateAsync();
        var host = await network.AddHostAsync("lan", LabSegment.Home, "203.0.113.30");
        var sleeper = host.Start("sleep", "600");
        var temp = network.CreateTempDirectory();

        await network.DisposeAsync();

        Assert.True(sleeper.HasExited, "the child must be reaped");
        var namespaces = await ProcessRunner.RunAsync(["ip", "netns", "list"], RunOptions.Default);
        Assert.DoesNotContain($"pcl{network.Id}", namespaces.Stdout, StringComparison.Ordinal);
        Assert.False(Directory.Exists(temp), "temp directories go with the network");
    }
}
