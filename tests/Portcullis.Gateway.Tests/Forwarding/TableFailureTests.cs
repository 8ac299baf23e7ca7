using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>When the kernel refuses, the answer is NetworkFailure and the state is what it was before.</summary>
public sealed class TableFailureTests
{
    [Fact]
    public void Map_KernelRefusesCreate_NetworkFailureAndNothingHeld()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxPerPeer = 1, PortRange = new PortRange(30000, 30000) });
        var client = h.Connect(2);
        h.Table.FailNext = 1;

        var failed = h.Map(client, MappingProtocol.Tcp, 8080);
        Assert.Empty(h.Service.Mappings);
        var retried = h.Map(client, MappingProtocol.Tcp, 8080);

        Assert.Equal(MapResult.Failure(MapStatus.NetworkFailure), failed);
        // Neither the quota slot nor the only port was consumed by the failed attempt.
        Assert.Equal(MapStatus.Success, retried.Status);
        Assert.Equal((ushort)30000, retried.ExternalPort);
    }

    [Fact]
    public void Map_KernelRefusesRefresh_NetworkFailureAndOldLeaseStands()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var created = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 120);
        h.Time.Advance(TimeSpan.FromSeconds(60));
        h.Table.FailNext = 1;

        var failed = h.Map(client, MappingProtocol.Tcp, 8080, lifetimeSeconds: 3600);
        var mapping = Assert.Single(h.Service.Mappings);
        h.Time.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(MapStatus.NetworkFailure, failed.Status);
        Assert.Equal(created.ExternalPort, mapping.PublicPort);
        Assert.Equal(TimeSpan.FromSeconds(120), mapping.Lifetime);
        // The old lease still ends when it would have.
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Delete_KernelRefuses_NetworkFailureAndMappingStays()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        h.Map(client, MappingProtocol.Tcp, 8080);
        h.Map(client, MappingProtocol.Tcp, 8081);
        h.Table.Failing = true;

        var one = h.Delete(client, MappingProtocol.Tcp, 8080);
        var all = h.Service.DeleteAll(client, MappingProtocol.Tcp);

        Assert.Equal(MapStatus.NetworkFailure, one.Status);
        Assert.Equal(MapStatus.NetworkFailure, all.Status);
        Assert.Equal(2, h.Service.Mappings.Count);
        Assert.Equal(2, h.Table.Entries.Count);
    }

    [Fact]
    public void Revoke_KernelRefuses_ThrowsAndMappingStays()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var result = h.Map(client, MappingProtocol.Tcp, 8080);
        h.Table.Failing = true;

        Assert.Throws<ForwardingTableException>(() => h.Service.Revoke(PublicAddress, MappingProtocol.Tcp, result.ExternalPort));
        Assert.Throws<ForwardingTableException>(() => h.Service.RevokePeer(PeerId(2)));

        Assert.Single(h.Service.Mappings);
        h.Table.Failing = false;
        Assert.Equal(MapStatus.Success, h.Map(client, MappingProtocol.Tcp, 8080).Status);
    }
}
