using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The index of DNATed flows by original destination, fed events by hand.</summary>
public sealed class ConntrackFlowIndexTests
{
    private const uint Public = 0xC633640A;   // 198.51.100.10
    private const uint Dedicated = 0xC633640B; // 198.51.100.11
    private const uint Client = 0x0A630002;   // 10.99.0.2

    private static TrackedFlow Flow(uint destination, ushort port, ushort sourcePort, uint id, byte protocol = 6, bool natted = true) =>
        new(protocol, 0xC0000264, sourcePort, destination, port, natted ? Client : destination, natted ? (ushort)8080 : port, 0, id);

    [Fact]
    public void Apply_NewThenDestroy_HeldThenGone()
    {
        var index = new ConntrackFlowIndex();
        var flow = Flow(Public, 30000, 6000, 1);

        index.Apply(new ConntrackEvent(ConntrackEventKind.New, flow));
        index.Apply(new ConntrackEvent(ConntrackEventKind.New, flow)); // seen twice (a dump after an overrun)
        Assert.Equal(1, index.Count);
        index.Apply(new ConntrackEvent(ConntrackEventKind.Destroy, flow));

        Assert.Equal(0, index.Count);
        Assert.Equal(0, index.Destinations);
        var taken = new List<TrackedFlow>();
        Assert.Equal(0, index.Take(flow.Key, taken));
    }

    [Fact]
    public void Add_NotDnated_Ignored()
    {
        var index = new ConntrackFlowIndex();

        index.Add(Flow(Public, 22, 6000, 1, natted: false));

        Assert.Equal(0, index.Count);
    }

    [Fact]
    public void Take_OneDestination_OnlyItsFlowsMovedOut()
    {
        var index = new ConntrackFlowIndex();
        index.Add(Flow(Public, 30000, 6000, 1));
        index.Add(Flow(Public, 30000, 6001, 2));
        index.Add(Flow(Public, 30000, 6002, 3, protocol: 17));
        index.Add(Flow(Public, 30001, 6000, 4));
        index.Add(Flow(Dedicated, 30000, 6000, 5));
        var taken = new List<TrackedFlow>();

        Assert.Equal(2, index.Take(new FlowKey(Public, 6, 30000), taken));

        Assert.Equal([1u, 2u], taken.Select(f => f.Id).Order());
        Assert.Equal(3, index.Count);
        Assert.Equal(0, index.Take(new FlowKey(Public, 6, 30000), taken));
    }

    [Fact]
    public void Take_MappingWithTarget_OnlyFlowsSentThereMovedOut()
    {
        var index = new ConntrackFlowIndex();
        index.Add(Flow(Public, 30000, 6000, 1));
        index.Add(Flow(Public, 30000, 6001, 2) with { ReplySource = 0x0A630003 }); // a newer mapping's, to 10.99.0.3
        var taken = new List<TrackedFlow>();

        Assert.Equal(1, index.Take(new MappingTarget(new FlowKey(Public, 6, 30000), Client, 8080), taken));

        Assert.Equal(1u, taken[0].Id);
        Assert.Equal(1, index.Count);
        Assert.Equal(1, index.Take(new FlowKey(Public, 6, 30000), taken));
        Assert.Equal(0, index.Destinations);
    }

    [Fact]
    public void TakeAddress_AllPortsButKept_MovedOut()
    {
        var index = new ConntrackFlowIndex();
        index.Add(Flow(Dedicated, 4711, 6000, 1));
        index.Add(Flow(Dedicated, 4712, 6000, 2, protocol: 17));
        index.Add(Flow(Dedicated, 30000, 6000, 3)); // a mapping's port on the same address: kept
        index.Add(Flow(Public, 4711, 6000, 4));
        var kept = new HashSet<FlowKey> { new(Dedicated, 6, 30000) };
        var taken = new List<TrackedFlow>();

        Assert.Equal(2, index.TakeAddress(Dedicated, kept.Contains, taken));

        Assert.Equal([1u, 2u], taken.Select(f => f.Id).Order());
        Assert.Equal(2, index.Count);
    }

    [Fact]
    public void Clear_ThenAdd_StartsOver()
    {
        var index = new ConntrackFlowIndex();
        index.Add(Flow(Public, 30000, 6000, 1));
        index.Clear();
        index.Add(Flow(Public, 30000, 6001, 2));
        var taken = new List<TrackedFlow>();

        Assert.Equal(1, index.Take(new FlowKey(Public, 6, 30000), taken));
        Assert.Equal(2u, taken[0].Id);
    }
}
