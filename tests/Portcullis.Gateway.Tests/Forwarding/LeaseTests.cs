using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

public sealed class LeaseTests
{
    [Fact]
    public void Lease_Lapses_RemovedFromKernelAtItsEndNotBefore()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);

        h.Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Single(h.Table.Entries);
        h.Time.Advance(TimeSpan.FromSeconds(1));

        Assert.Empty(h.Table.Entries);
        Assert.Empty(h.Service.Mappings);
    }

    [Fact]
    public void Lease_Refreshed_LivesUntilTheNewEnd()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Udp, 6881, lifetimeSeconds: 120);
        h.Time.Advance(TimeSpan.FromSeconds(100));
        h.Map(client, MappingProtocol.Udp, 6881, lifetimeSeconds: 120);

        h.Time.Advance(TimeSpan.FromSeconds(100));
        Assert.Single(h.Table.Entries);
        h.Time.Advance(TimeSpan.FromSeconds(20));

        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Lease_SeveralLapseTogether_OneTransaction()
    {
        using var h = new ForwardingHarness();
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        h.Map(bob, MappingProtocol.Tcp, 8080, lifetimeSeconds: 150);
        var keeper = h.Map(bob, MappingProtocol.Udp, 8080, lifetimeSeconds: 600);

        h.Time.Advance(TimeSpan.FromSeconds(200));

        Assert.Equal(2, h.Table.Updates[^1].Remove.Length);
        Assert.Equal(keeper.ExternalPort, Assert.Single(h.Table.Entries).PublicPort);
    }

    [Fact]
    public void Lease_Lapsed_PortRememberedForItsPeer()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var first = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        h.Time.Advance(TimeSpan.FromSeconds(130));
        Assert.Empty(h.Table.Entries);

        var again = h.Map(client, MappingProtocol.Tcp, 8080);

        Assert.Equal(first.ExternalPort, again.ExternalPort);
    }

    [Fact]
    public void SessionEnd_KernelRefusesRemoval_PortStaysReservedAndRemovalIsRetried()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy
        {
            PortRange = new PortRange(30000, 30000),
            Quarantine = TimeSpan.Zero,
        });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080, lifetimeSeconds: 600);
        h.Table.FailNext = 1;

        h.Disconnect(2);
        Assert.Empty(h.Service.Mappings);
        Assert.Single(h.Table.Entries);
        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Tcp, 8080).Status);
        h.Time.Advance(LeaseExpiry.RemovalRetryInterval);

        Assert.Empty(h.Table.Entries);
        Assert.Equal((ushort)30000, h.Map(bob, MappingProtocol.Tcp, 8080).ExternalPort);
    }

    [Fact]
    public void Lease_KernelKeepsRefusing_ReservationEndsOnceTheKernelTimeoutHasPassed()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy
        {
            PortRange = new PortRange(30000, 30000),
            Quarantine = TimeSpan.Zero,
        });
        var alice = h.Connect(2);
        var bob = h.Connect(3);
        h.Map(alice, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        var stale = Assert.Single(h.Table.Entries);
        h.Table.Failing = true;

        h.Time.Advance(TimeSpan.FromSeconds(122));
        Assert.Empty(h.Service.Mappings);
        Assert.Equal(MapStatus.NoResources, h.Map(bob, MappingProtocol.Tcp, 8080).Status);
        // The kernel's own timeout (lease + slack) drops the element; the service stops waiting for it.
        h.Table.Expire(stale);
        h.Time.Advance(TimeSpan.FromSeconds(10));
        h.Table.Failing = false;

        Assert.Equal((ushort)30000, h.Map(bob, MappingProtocol.Tcp, 8080).ExternalPort);
    }

    [Fact]
    public void SessionEnd_OneElementAlreadyGoneFromKernel_TheOthersAreStillRemoved()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var tcp = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 600);
        h.Map(client, MappingProtocol.Udp, 8080, lifetimeSeconds: 600);
        h.Table.Expire(h.Table.Find(MappingProtocol.Tcp, tcp.ExternalPort)!);

        h.Disconnect(2);
        Assert.Single(h.Table.Entries);
        h.Time.Advance(LeaseExpiry.RemovalRetryInterval);

        Assert.Empty(h.Table.Entries);
    }
}
