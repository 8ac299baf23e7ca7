using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Xunit.Abstractions;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Real IPv6 packets through dedicated IPv6 routes (NAT66, <see cref="ForwardingLab.Nat66Network"/>): the gateway's
/// eth0 also holds 2001:db8:1::11 and ::12, dedicated addresses as an operator adds them. What DedicatedTrafficTests
/// checks for IPv4, here for the every-port DNAT66 and its flows' end.
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
