using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Remote-peer filters (PCP FILTER) in the real table: a filtered mapping admits only its filters' sources, the rest
/// of the internet finds it dark; removing or refreshing the mapping takes its filter elements along.
/// The remote namespace holds a second address (<see cref="Stranger"/>) to connect from.
/// </summary>
public sealed class FilterTrafficTests
{
    private static readonly IPAddress Stranger = IPAddress.Parse("198.51.100.101");
    private static readonly ForwardingLab.Mapping Web = new(30000, 8080);

    [Fact]
    public async Task FilteredMapping_AllowedSourceConnects_OtherSourceFindsItDark()
    {
        using var lab = NewLab();
        lab.Table.Update([], [Filtered(Web, TimeSpan.FromMinutes(5), new RemoteFilter(IPNetwork.Parse("198.51.100.100/32"), 0))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        Assert.False(await ConnectFrom(lab, Stranger, 0));
        Assert.Null(await Net.TryAccept(listener));
        using var flow = await Flow.Open(lab.Remote, listener, Public, Web.Public);
        Assert.Equal(Remote, flow.Source);
    }

    [Fact]
    public async Task RemotePortFilter_OnlyThatSourcePortConnects()
    {
        using var lab = NewLab();
        lab.Table.Update([], [Filtered(Web, null, new RemoteFilter(IPNetwork.Parse("198.51.100.0/24"), 41000))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        Assert.False(await ConnectFrom(lab, Stranger, 41001));
        Assert.True(await ConnectFrom(lab, Stranger, 41000));
        Assert.NotNull(await Net.TryAccept(listener));
    }

    [Fact]
    public async Task RefreshWithNewFilters_ReplacesThem_AndListingShowsThem()
    {
        using var lab = NewLab();
        var first = Filtered(Web, TimeSpan.FromMinutes(5), new RemoteFilter(IPNetwork.Parse("198.51.100.100/32"), 0));
        lab.Table.Update([], [first]);
        // Overlapping filters (one inside the other) are one admission: the kernel's interval set refuses nesting.
        var second = Filtered(Web, TimeSpan.FromMinutes(5),
            new RemoteFilter(IPNetwork.Parse("198.51.100.101/32"), 0), new RemoteFilter(IPNetwork.Parse("198.51.100.96/29"), 0),
            new RemoteFilter(IPNetwork.Parse("198.51.100.101/32"), 8443));
        lab.Table.Update([first], [second]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        var held = Assert.Single(lab.Table.List());
        Assert.Equal([new RemoteFilter(IPNetwork.Parse("198.51.100.96/29"), 0)], held.Filters);
        Assert.True(await ConnectFrom(lab, Stranger, 0));
        Assert.NotNull(await Net.TryAccept(listener));
        lab.Table.Update([second], [Filtered(Web, null, new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0))]);
        Assert.False(await ConnectFrom(lab, Remote, 0));
    }

    [Fact]
    public async Task RemovedFilteredMapping_LeavesNoFilter_ForTheNextMappingOnThatPort()
    {
        using var lab = NewLab();
        var filtered = Filtered(Web, TimeSpan.FromMinutes(5), new RemoteFilter(IPNetwork.Parse("192.0.2.0/24"), 0));
        lab.Table.Update([], [filtered]);
        // As reconciliation after a restart does: remove what the listing shows, filters included.
        var held = Assert.Single(lab.Table.List());
        lab.Table.Update([held], []);
        lab.Table.Update([], [Tcp(Web.Public, Client1, Web.Internal, "peer-2", TimeSpan.FromMinutes(5))]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, Web.Internal);

        Assert.Empty(Assert.Single(lab.Table.List()).Filters);
        Assert.True(await ConnectFrom(lab, Stranger, 0));
        Assert.NotNull(await Net.TryAccept(listener));
    }

    private static ForwardingLab NewLab()
    {
        var lab = new ForwardingLab();
        lab.Remote.Ip("addr", "add", "198.51.100.101/24", "dev", "r0");
        return lab;
    }

    private static ForwardingEntry Filtered(ForwardingLab.Mapping mapping, TimeSpan? timeout, params RemoteFilter[] filters) =>
        Tcp(mapping.Public, Client1, mapping.Internal, "peer-1", timeout) with { Filters = filters };

    private static async Task<bool> ConnectFrom(ForwardingLab lab, IPAddress source, ushort sourcePort)
    {
        using var socket = ForwardingLab.TcpClient(lab.Remote);
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        socket.Bind(new IPEndPoint(source, sourcePort));
        return await Net.TryConnect(socket, Public, Web.Public);
    }
}
