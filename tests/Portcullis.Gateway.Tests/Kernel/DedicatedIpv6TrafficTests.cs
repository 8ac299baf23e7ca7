using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Xunit.Abstractions;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Real IPv6 packets through dedicated IPv6 routes (NAT66, <see cref="ForwardingLab.Nat66Network"/>): the gateway's
/// eth0 also holds 2001:db8:1::11 and ::12, dedicated addresses as an operator adds them. What DedicatedTrafficTests
/// checks for IPv4, here for the every-port DNAT66, its flows' end and the forward chain's guard of table ip6 portcullis.
/// </summary>
public sealed class DedicatedIpv6TrafficTests(ITestOutputHelper output)
{
    private static readonly IPAddress Dedicated6 = IPAddress.Parse("2001:db8:1::11");
    private static readonly IPAddress Dedicated6b = IPAddress.Parse("2001:db8:1::12");
    private static readonly HashSet<ushort> Blocked = [25, 445];
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    /// <summary>Commit → old flow ended, as FlowSurvivalTests bounds a mapping's.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(100);

    [Theory]
    [InlineData(true)] // the peer's session ended: every port goes, its egress route stays
    [InlineData(false)] // the assignment was removed
    public async Task EveryPortRouteGoes_ItsEstablishedFlowEndedWithinBound_AnotherAddressesFlowStays(bool egressStays)
    {
        using var lab = Lab();
        lab.Table.SetDedicated([new(Dedicated6, ForwardingLab.Client1Ipv6, true), new(Dedicated6b, ForwardingLab.Client2Ipv6, true)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 4711, ipv6: true);
        using var otherListener = ForwardingLab.TcpListener(lab.Client2, 4711, ipv6: true);
        using var watch = ConntrackWatch.Start(lab.Gateway);
        using var flow = await Flow.Open(lab.Remote, listener, Dedicated6, 4711);
        using var otherFlow = await Flow.Open(lab.Remote, otherListener, Dedicated6b, 4711);
        Assert.Equal(ForwardingLab.Remote6, flow.Source);
        Assert.Equal("before", await flow.Deliver("before"));
        Assert.Equal("before", await otherFlow.Deliver("before"));
        Assert.NotNull(watch.TryWaitFor(l => Is(l, "[NEW]", Dedicated6), Generous));

        var committing = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        DedicatedRoute[] after = egressStays
            ? [new(Dedicated6, ForwardingLab.Client1Ipv6, false), new(Dedicated6b, ForwardingLab.Client2Ipv6, true)]
            : [new(Dedicated6b, ForwardingLab.Client2Ipv6, true)];
        lab.Table.SetDedicated(after, Blocked);
        var destroyed = watch.TryWaitFor(l => Is(l, "[DESTROY]", Dedicated6), Generous);

        Assert.NotNull(destroyed);
        var survived = TimeSpan.FromSeconds(ConntrackWatch.Stamp(destroyed) - committing);
        output.WriteLine($"the every-port IPv6 flow ended {survived.TotalMilliseconds:F2} ms after the commit began");
        Assert.True(survived <= Bound, $"the every-port IPv6 flow lived {survived.TotalMilliseconds:F1} ms after its route's commit (bound {Bound.TotalMilliseconds} ms)");
        Assert.True(lab.Table.WaitForFlowCleanup(Generous));
        Assert.Equal(1, lab.Table.FlowsDeleted);
        var flows = ConntrackEntries.Flows(lab.Gateway, ipv6: true);
        Assert.DoesNotContain(flows, l => l.Contains($"dst={Dedicated6} ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.Contains($"dst={Dedicated6b} ", StringComparison.Ordinal));
        Assert.Null(await flow.Deliver("after"));
        Assert.Equal("after", await otherFlow.Deliver("after"));
        Assert.Equal("back", await otherFlow.Reply("back"));
    }

    [Fact]
    public async Task AddressMovedToAnotherClient_PreviousOwnersFlowStops_NewOwnerLeavesFromIt()
    {
        using var lab = Lab();
        lab.Table.SetDedicated([new(Dedicated6, ForwardingLab.Client1Ipv6, false)], Blocked);
        using var listener = ForwardingLab.TcpListener(lab.Remote, 9000, ipv6: true);
        using var fromClient1 = await Flow.Open(lab.Client1, listener, ForwardingLab.Remote6, 9000);
        Assert.Equal(Dedicated6, fromClient1.Source);
        Assert.Equal("before", await fromClient1.Reply("before"));

        lab.Table.SetDedicated([new(Dedicated6, ForwardingLab.Client2Ipv6, false)], Blocked);

        // The forward chain's guard: the old owner's established flow no longer passes as the address, either way.
        Assert.Null(await fromClient1.Deliver("after"));
        Assert.Null(await fromClient1.Reply("back"));
        using var fromClient2 = await Flow.Open(lab.Client2, listener, ForwardingLab.Remote6, 9000);
        Assert.Equal(Dedicated6, fromClient2.Source);
        Assert.Equal("yours", await fromClient2.Reply("yours"));
        // Client1 starts afresh from the shared address.
        using var again = await Flow.Open(lab.Client1, listener, ForwardingLab.Remote6, 9000);
        Assert.Equal(ForwardingLab.Public6, again.Source);
    }

    [Fact]
    public async Task GatewaysOwnPort_UnderEveryPort_StillReachesTheGateway_OtherPortsForwarded()
    {
        using var lab = Lab();
        lab.Table.SetDedicated([new(Dedicated6, ForwardingLab.Client1Ipv6, true)], Blocked);
        using var gateway = ForwardingLab.UdpSocket(lab.Gateway, 51820, ipv6: true); // as the WireGuard listen port
        using var client1 = ForwardingLab.UdpSocket(lab.Client1, 51820, ipv6: true);
        using var other = ForwardingLab.UdpSocket(lab.Client1, 51821, ipv6: true);
        using var remote = ForwardingLab.UdpSocket(lab.Remote, 41000, ipv6: true);

        await Net.SendTo(remote, "to the dedicated address", Dedicated6, 51820);
        Assert.Equal("to the dedicated address", (await Net.TryReceiveFrom(gateway))?.Text);
        Assert.Null(await Net.TryReceiveFrom(client1));

        // Ports the gateway does not listen on are still forwarded.
        await Net.SendTo(remote, "every port", Dedicated6, 51821);
        Assert.Equal("every port", (await Net.TryReceiveFrom(other))?.Text);
    }

    private static ForwardingLab Lab()
    {
        var lab = new ForwardingLab(ForwardingLab.Nat66Network());
        try
        {
            foreach (var address in (ReadOnlySpan<IPAddress>)[Dedicated6, Dedicated6b])
                lab.Gateway.Ip("-6", "addr", "add", $"{address}/64", "dev", "eth0", "nodad");
            return lab;
        }
        catch
        {
            lab.Dispose();
            throw;
        }
    }

    // The remote's IPv6 flow to port 4711 of a dedicated address, in conntrack -E's line format.
    private static bool Is(string line, string kind, IPAddress destination) =>
        line.Contains(kind, StringComparison.Ordinal)
        && line.Contains($"src={ForwardingLab.Remote6} dst={destination} ", StringComparison.Ordinal)
        && line.Contains(" dport=4711 ", StringComparison.Ordinal);
}
