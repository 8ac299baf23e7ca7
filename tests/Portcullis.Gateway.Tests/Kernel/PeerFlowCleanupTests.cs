using System.Diagnostics;
using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Xunit.Abstractions;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Flows that are not a port forward's, ended through the table's reaper on real connections: a removed PCP PEER
/// mapping's outbound flow, and every flow of a removed peer's tunnel address. Watched with a stock observer
/// (conntrack -E) and waited for on its events, never by sleeping.
/// </summary>
public sealed class PeerFlowCleanupTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    /// <summary>The bound issue 12 sets for a removed mapping's flows: commit → old flow ended.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(100);
    private const ushort RemotePort = 8080;
    private const ushort InternalPort = 5000;

    [Fact]
    public async Task RemovePeerEntry_ItsEstablishedFlowEndedWithinBound_AMasqueradedFlowStays()
    {
        using var lab = new ForwardingLab();
        var entry = Peer(30000, Client1, InternalPort, new IPEndPoint(Remote, RemotePort), "peer-1", TimeSpan.FromMinutes(5));
        lab.Table.Update([], [entry]);
        using var listener = ForwardingLab.TcpListener(lab.Remote, RemotePort);
        using var watch = ConntrackWatch.Start(lab.Gateway);
        using var peerFlow = await Connect(lab, listener, InternalPort);
        using var other = await Connect(lab, listener, InternalPort + 1);
        Assert.Equal(new IPEndPoint(Public, 30000), peerFlow.Accepted.RemoteEndPoint);

        var committing = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
        lab.Table.Update([entry], []);
        var destroyed = watch.TryWaitFor(l => l.Contains("[DESTROY]", StringComparison.Ordinal) && l.Contains($"sport={InternalPort} dport={RemotePort} ", StringComparison.Ordinal), Generous);

        Assert.NotNull(destroyed);
        var survived = TimeSpan.FromSeconds(ConntrackWatch.Stamp(destroyed) - committing);
        output.WriteLine($"the PEER flow ended {survived.TotalMilliseconds:F2} ms after the commit began");
        Assert.True(survived <= Bound, $"the PEER flow lived {survived.TotalMilliseconds:F1} ms after its mapping's commit (bound {Bound.TotalMilliseconds} ms)");
        Assert.True(lab.Table.WaitForFlowCleanup(Generous));
        Assert.Equal("still", await other.Deliver("still"));
        Assert.DoesNotContain(Flows(lab), l => l.Contains($"sport={InternalPort} dport={RemotePort} ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task EndPeerFlows_EveryFlowOfTheAddressBothWaysEnded_AnotherPeersStay_CallerDoesNotWait()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [Tcp(30000, Client1, 8080, "peer-1"), Tcp(30001, Client2, 8080, "peer-2")]);
        using var remoteListener = ForwardingLab.TcpListener(lab.Remote, RemotePort);
        using var listener1 = ForwardingLab.TcpListener(lab.Client1, 8080);
        using var listener2 = ForwardingLab.TcpListener(lab.Client2, 8080);
        using var watch = ConntrackWatch.Start(lab.Gateway);
        using var outbound1 = await Flow.Open(lab.Client1, remoteListener, Remote, RemotePort);
        using var inbound1 = await Flow.Open(lab.Remote, listener1, Public, 30000);
        using var outbound2 = await Flow.Open(lab.Client2, remoteListener, Remote, RemotePort);
        using var inbound2 = await Flow.Open(lab.Remote, listener2, Public, 30001);

        var timer = Stopwatch.StartNew();
        lab.Table.EndPeerFlows(Client1);
        var returned = timer.Elapsed;
        bool outboundGone = false, inboundGone = false;
        var both = watch.TryWaitFor(l =>
        {
            outboundGone |= l.Contains("[DESTROY]", StringComparison.Ordinal) && l.Contains("src=10.99.0.2 dst=198.51.100.100 ", StringComparison.Ordinal);
            inboundGone |= l.Contains("[DESTROY]", StringComparison.Ordinal) && l.Contains(" dport=30000 ", StringComparison.Ordinal);
            return outboundGone && inboundGone;
        }, Generous);

        output.WriteLine($"EndPeerFlows returned after {returned.TotalMilliseconds:F2} ms");
        Assert.NotNull(both);
        Assert.True(lab.Table.WaitForFlowCleanup(Generous));
        Assert.Equal("out", await outbound2.Deliver("out"));
        Assert.Equal("in", await inbound2.Deliver("in"));
        var left = Flows(lab);
        Assert.DoesNotContain(left, l => l.Contains("=10.99.0.2 ", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("src=10.99.0.3 dst=198.51.100.100 ", StringComparison.Ordinal));
    }

    private static string[] Flows(ForwardingLab lab) =>
        lab.Gateway.Exec(["conntrack", "-L", "-p", "tcp"]).Split('\n').Where(l => l.StartsWith("tcp", StringComparison.Ordinal)).ToArray();

    private static async Task<Flow> Connect(ForwardingLab lab, System.Net.Sockets.Socket listener, ushort sourcePort)
    {
        var client = ForwardingLab.TcpClient(lab.Client1);
        client.SetSocketOption(System.Net.Sockets.SocketOptionLevel.Socket, System.Net.Sockets.SocketOptionName.ReuseAddress, true);
        client.Bind(new IPEndPoint(IPAddress.Any, sourcePort));
        Assert.True(await Net.TryConnect(client, Remote, RemotePort));
        var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        return new Flow(client, accepted);
    }
}
