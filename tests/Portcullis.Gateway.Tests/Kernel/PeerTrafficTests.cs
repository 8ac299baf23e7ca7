using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// PCP PEER entries (<see cref="PeerEntry"/>) through the installed table with real packets: the flow a client asked
/// for leaves from exactly the answered public address:port (IPv4, and IPv6 with NAT66); other flows do not. The
/// entries are listed back with owner and lease, so reconciliation and the audit trail see them like mappings.
/// </summary>
public sealed class PeerTrafficTests
{
    private const ushort RemotePort = 8080;
    private const ushort InternalPort = 5000;
    private const ushort PeerPort = 30000;

    private static PeerEntry PeerOf(ushort publicPort = PeerPort, ushort remotePort = RemotePort) =>
        Peer(publicPort, Client1, InternalPort, new IPEndPoint(Remote, remotePort), "peer-1", TimeSpan.FromMinutes(5));

    private static PeerEntry Peer6(ushort publicPort = PeerPort) =>
        new(ForwardingLab.Public6, MappingProtocol.Tcp, publicPort, ForwardingLab.Client1Ipv6, InternalPort,
            new IPEndPoint(ForwardingLab.Remote6, RemotePort), "peer-1", TimeSpan.FromMinutes(5));

    [Fact]
    public async Task PeerEntry_FlowLeavesFromTheAnsweredPortOthersDoNot()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [PeerOf()]);
        using var listener = ForwardingLab.TcpListener(lab.Remote, RemotePort);

        using (var flow = await Connect(lab, listener, InternalPort))
        {
            Assert.Equal(new IPEndPoint(Public, PeerPort), flow.Accepted.RemoteEndPoint);
            Assert.Equal("hello", await flow.Deliver("hello"));
            Assert.Equal("back", await flow.Reply("back"));
        }

        // Another source port is no PEER flow: it is masqueraded as before.
        using var other = await Connect(lab, listener, InternalPort + 1);
        var seen = (IPEndPoint)other.Accepted.RemoteEndPoint!;
        Assert.Equal(Public, seen.Address);
        Assert.NotEqual(PeerPort, seen.Port);
    }

    [Fact]
    public async Task PeerEntry_Nat66_FlowLeavesFromTheAnsweredIpv6PortOthersDoNot()
    {
        using var lab = new ForwardingLab(ForwardingLab.Nat66Network());
        lab.Table.Update([], [Peer6()]);
        using var listener = ForwardingLab.TcpListener(lab.Remote, RemotePort, ipv6: true);

        using (var flow = await Connect(lab, listener, InternalPort, ipv6: true))
        {
            Assert.Equal(new IPEndPoint(ForwardingLab.Public6, PeerPort), Plain(flow.Accepted.RemoteEndPoint));
            Assert.Equal("back", await flow.Reply("back"));
        }
        using var other = await Connect(lab, listener, InternalPort + 1, ipv6: true);
        var seen = Plain(other.Accepted.RemoteEndPoint);
        Assert.Equal(ForwardingLab.Public6, seen.Address);
        Assert.NotEqual(PeerPort, seen.Port);

        // Listed back from the ip6 peers map, kept over a reinstall, and removed by the same entry.
        var listed = Assert.IsType<PeerEntry>(Assert.Single(lab.Table.List()));
        Assert.Equal(Peer6() with { Timeout = listed.Timeout }, listed);
        lab.Table.Install(ForwardingLab.Nat66Network());
        Assert.IsType<PeerEntry>(Assert.Single(lab.Table.List()));
        lab.Table.Update([listed], []);
        Assert.Empty(lab.Table.List());
    }

    [Fact]
    public async Task PeerEntry_RefreshedReinstalledThenRemoved_ListedBackAndFlowsFollow()
    {
        using var lab = new ForwardingLab();
        var entry = PeerOf();
        var mapping = Tcp(30001, Client1, 8081, "peer-1");
        lab.Table.Update([], [entry, mapping]);
        lab.Table.Update([entry], [entry]); // refresh: delete + add in one transaction
        lab.Table.Install(Network()); // a restart keeps the element: reconciliation decides about it

        var listed = lab.Table.List();
        Assert.Equal(2, listed.Count);
        var peer = Assert.IsType<PeerEntry>(Assert.Single(listed, e => e is PeerEntry));
        Assert.Equal(entry with { Timeout = peer.Timeout }, peer);
        Assert.InRange(peer.Timeout!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.Equal(mapping, Assert.Single(listed, e => e is not PeerEntry));
        using var listener = ForwardingLab.TcpListener(lab.Remote, RemotePort);
        using (var flow = await Connect(lab, listener, InternalPort))
            Assert.Equal(PeerPort, ((IPEndPoint)flow.Accepted.RemoteEndPoint!).Port);

        lab.Table.Update([peer], []); // as listed: the owner and timeout are not needed to remove it
        lab.Table.Update([entry], []); // a delete of what is gone succeeds (a lease the kernel let lapse)

        Assert.Equal(mapping, Assert.Single(lab.Table.List()));
        using var after = await Connect(lab, listener, InternalPort);
        Assert.NotEqual(PeerPort, ((IPEndPoint)after.Accepted.RemoteEndPoint!).Port);
    }

    [Fact]
    public void PeerEntry_ConflictingAdd_ErrorNamesThePeerEntryAndKeepsThePreviousState()
    {
        using var lab = new ForwardingLab();
        var entry = PeerOf();
        lab.Table.Update([], [entry]);

        // The same flow again with another public port: the kernel refuses the element (File exists), all or nothing.
        var e = Assert.Throws<ForwardingTableException>(() => lab.Table.Update([], [Tcp(30005, Client1, 22, "peer-1"), PeerOf(PeerPort + 1)]));

        Assert.Contains($"(PEER tcp {Public}:{PeerPort + 1})", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Remote.ToString(), e.Message, StringComparison.Ordinal);
        Assert.Equal(PeerPort, Assert.IsType<PeerEntry>(Assert.Single(lab.Table.List())).PublicPort);
    }

    [Fact]
    public void Service_RepeatedReconcileKeepsALivePeerAndARestartRemovesThePreviousRunsPeer()
    {
        using var lab = new ForwardingLab();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var logger = new CapturingLogger<ForwardingService>();
        var remote = new IPEndPoint(Remote, RemotePort);
        PeerEntry live;
        using (var service = new ForwardingService(lab.Table, [Public], new ForwardingPolicy(), time, logger))
        {
            service.Start();
            service.PeerSessionStarted("p2", Client1);
            var answer = service.Peer(new PeerMappingRequest
            {
                Client = Client1,
                Protocol = MappingProtocol.Tcp,
                InternalPort = InternalPort,
                RemoteAddress = Remote,
                RemotePort = RemotePort,
                Lifetime = TimeSpan.FromMinutes(10),
            });
            Assert.Equal(MapStatus.Success, answer.Status);
            live = Assert.IsType<PeerEntry>(Assert.Single(lab.Table.List()));
            Assert.Equal((answer.ExternalPort, remote, "p2"), (live.PublicPort, live.Remote, live.Owner));

            // Reconciling again finds it listed as the service holds it: nothing removed, nothing re-added.
            service.Reconcile();
            service.Reconcile();
            Assert.Equal(live with { Timeout = null }, Assert.IsType<PeerEntry>(Assert.Single(lab.Table.List())) with { Timeout = null });
            var reconciled = logger.Lines.Where(l => l.Id.Id == 4000).Select(l => l.Message).ToList();
            Assert.Equal(3, reconciled.Count); // Start, then the two repeats
            Assert.All(reconciled.Skip(1), m => Assert.EndsWith("removed 0 entries nobody owns, added 0", m, StringComparison.Ordinal));
        }

        // The next run (a reinstalled table, a new service with no PEER state) reconciles the leftover away.
        lab.Table.Install(Network());
        Assert.Single(lab.Table.List());
        using var next = new ForwardingService(lab.Table, [Public], new ForwardingPolicy(), time, logger);
        next.Start();
        Assert.Empty(lab.Table.List());
        Assert.EndsWith("removed 1 entries nobody owns, added 0", logger.Lines[^1].Message, StringComparison.Ordinal);
    }

    private static IPEndPoint Plain(EndPoint? endPoint)
    {
        var ip = (IPEndPoint)endPoint!;
        return new IPEndPoint(ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address, ip.Port);
    }

    private static async Task<Flow> Connect(ForwardingLab lab, Socket listener, ushort sourcePort, bool ipv6 = false)
    {
        var client = ipv6
            ? lab.Client1.Run(() => new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp))
            : ForwardingLab.TcpClient(lab.Client1);
        client.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        client.Bind(new IPEndPoint(ipv6 ? IPAddress.IPv6Any : IPAddress.Any, sourcePort));
        Assert.True(await Net.TryConnect(client, ipv6 ? ForwardingLab.Remote6 : Remote, RemotePort));
        var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        return new Flow(client, accepted);
    }
}
