using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// PCP PEER entries (<see cref="ForwardingEntry.Remote"/>) through the installed table with real packets: the flow
/// a client asked for leaves from exactly the answered public address:port; other flows do not.
/// </summary>
public sealed class PeerTrafficTests
{
    private const ushort RemotePort = 8080;
    private const ushort InternalPort = 5000;
    private const ushort PeerPort = 30000;

    private static ForwardingEntry PeerEntry(ushort publicPort = PeerPort, ushort remotePort = RemotePort) =>
        Tcp(publicPort, Client1, InternalPort, "peer-1", TimeSpan.FromMinutes(5)) with { Remote = new IPEndPoint(Remote, remotePort) };

    [Fact]
    public async Task PeerEntry_FlowLeavesFromTheAnsweredPortOthersDoNot()
    {
        using var lab = new ForwardingLab();
        lab.Table.Update([], [PeerEntry()]);
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
    public async Task PeerEntry_RefreshedThenRemoved_FlowsFollowAndListStaysMappingsOnly()
    {
        using var lab = new ForwardingLab();
        var entry = PeerEntry();
        lab.Table.Update([], [entry, Tcp(30001, Client1, 8081, "peer-1")]);
        lab.Table.Update([entry], [entry]); // refresh: delete + add in one transaction

        // List() holds the DNAT mappings only (Install flushes PEER entries: the service keeps none over a restart).
        Assert.Null(Assert.Single(lab.Table.List()).Remote);
        using var listener = ForwardingLab.TcpListener(lab.Remote, RemotePort);
        using (var flow = await Connect(lab, listener, InternalPort))
            Assert.Equal(PeerPort, ((IPEndPoint)flow.Accepted.RemoteEndPoint!).Port);

        lab.Table.Update([entry], []);
        lab.Table.Update([entry], []); // a delete of what is gone succeeds (a lease the kernel let lapse)

        using var after = await Connect(lab, listener, InternalPort);
        Assert.NotEqual(PeerPort, ((IPEndPoint)after.Accepted.RemoteEndPoint!).Port);
    }

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
