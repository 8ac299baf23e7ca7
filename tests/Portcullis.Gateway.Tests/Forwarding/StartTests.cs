using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class StartTests
{
    private static ForwardingEntry Orphan(ushort port, int host, string owner, TimeSpan? timeout) =>
        new(PublicAddress, MappingProtocol.Tcp, port, TunnelAddress(host), 8080, owner, timeout);

    [Fact]
    public void Start_ElementsLeftByAnEarlierRun_AllRemovedInOneTransactionBeforeAnySession()
    {
        var table = new InMemoryForwardingTable();
        table.Seed(Orphan(30000, 2, "p2", TimeSpan.FromSeconds(3000)));
        table.Seed(Orphan(30001, 3, "p3", null));
        table.Seed(Orphan(30002, 4, "someone-else", TimeSpan.FromSeconds(10)) with { Protocol = MappingProtocol.Udp });
        using var h = new ForwardingHarness(start: false, table: table);

        h.Service.Start();

        Assert.Empty(table.Entries);
        var update = Assert.Single(table.Updates);
        Assert.Equal(3, update.Remove.Length);
        Assert.Empty(update.Add);
    }

    [Fact]
    public void Start_EmptyKernel_ListsButWritesNothing()
    {
        var table = new InMemoryForwardingTable();
        using var h = new ForwardingHarness(start: false, table: table);

        h.Service.Start();

        Assert.Equal(1, table.ListCalls);
        Assert.Empty(table.Updates);
    }

    [Fact]
    public void Start_KernelRefuses_ThrowsAndServesNothing()
    {
        var table = new InMemoryForwardingTable { Failing = true };
        table.Seed(Orphan(30000, 2, "p2", null));
        using var h = new ForwardingHarness(start: false, table: table);

        Assert.Throws<ForwardingTableException>(h.Service.Start);

        Assert.Throws<InvalidOperationException>(() => h.Connect(2));
        Assert.Equal(MapStatus.NetworkFailure, h.Map(TunnelAddress(2), MappingProtocol.Tcp, 8080).Status);
        Assert.Equal(0u, h.Service.EpochSeconds);
    }

    [Fact]
    public void Start_Twice_Throws()
    {
        using var h = new ForwardingHarness();

        Assert.Throws<InvalidOperationException>(h.Service.Start);
    }

    [Fact]
    public void PeerSessionStarted_BeforeStart_Throws()
    {
        using var h = new ForwardingHarness(start: false);

        Assert.Throws<InvalidOperationException>(() => h.Connect(2));
    }

    [Fact]
    public void EpochSeconds_CountsWholeSecondsFromStart()
    {
        using var h = new ForwardingHarness(start: false);
        h.Time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(0u, h.Service.EpochSeconds);

        h.Service.Start();
        Assert.Equal(0u, h.Service.EpochSeconds);
        h.Time.Advance(TimeSpan.FromSeconds(42.9));
        Assert.Equal(42u, h.Service.EpochSeconds);
        h.Time.Advance(TimeSpan.FromDays(3));

        Assert.Equal(42u + (3 * 86400), h.Service.EpochSeconds);
    }

    [Fact]
    public void EpochSeconds_NewServiceOverSameKernel_StartsAgainFromZero()
    {
        var table = new InMemoryForwardingTable();
        var first = new ForwardingHarness(table: table);
        first.Connect(2);
        first.Map(TunnelAddress(2), MappingProtocol.Tcp, 8080);
        first.Time.Advance(TimeSpan.FromSeconds(500));
        Assert.Equal(500u, first.Service.EpochSeconds);
        first.Dispose();

        using var second = new ForwardingHarness(table: table);

        // State was lost, so the mapping is gone and the epoch says so.
        Assert.Equal(0u, second.Service.EpochSeconds);
        Assert.Empty(table.Entries);
    }

    [Fact]
    public void Reconcile_KernelChangedBehindOurBack_ForeignElementRemovedOursRestored()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var ours = h.Map(client, MappingProtocol.Tcp, 8080);
        var element = h.Table.Find(MappingProtocol.Tcp, ours.ExternalPort)!;
        h.Table.Expire(element);
        h.Table.Seed(Orphan(30000, 9, "p9", null));
        // Same key as ours would be fine; a different target on our key must be replaced.
        h.Table.Seed(element with { TunnelAddress = TunnelAddress(9), Owner = "p9" });

        h.Service.Reconcile();

        var restored = Assert.Single(h.Table.Entries);
        Assert.Equal(client, restored.TunnelAddress);
        Assert.Equal("p2", restored.Owner);
    }

    [Fact]
    public void Dispose_StopsServingWithoutTouchingTheKernel()
    {
        var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        var updates = h.Table.Updates.Count;

        h.Dispose();
        h.Dispose();
        h.Time.Advance(TimeSpan.FromSeconds(300));

        Assert.Equal(MapStatus.NetworkFailure, h.Map(client, MappingProtocol.Tcp, 8081).Status);
        Assert.Equal(updates, h.Table.Updates.Count);
        Assert.Single(h.Table.Entries);
    }

    [Fact]
    public void Constructor_NoPublicAddress_Throws()
    {
        Assert.Throws<ArgumentException>(() => new ForwardingService(new InMemoryForwardingTable(), Array.Empty<IPAddress>(),
            new ForwardingPolicy(), TimeProvider.System, new CapturingLogger<ForwardingService>()));
    }
}
