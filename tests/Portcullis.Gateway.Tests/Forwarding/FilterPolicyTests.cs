using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Forwarding.ForwardingHarness;

namespace Portcullis.Gateway.Tests.Forwarding;

// Remote-peer filters (PCP FILTER) as policy: they travel with the mapping's kernel entry, are replaced or kept on a
// refresh, leave with the mapping, and are limited per mapping.
public sealed class FilterPolicyTests
{
    private static readonly RemoteFilter Friends = new(IPNetwork.Parse("192.0.2.0/24"), 0);
    private static readonly RemoteFilter Laptop = new(IPNetwork.Parse("203.0.113.21/32"), 0);

    [Fact]
    public void Map_WithFilters_EntryCarriesThem_AndAnswerNamesThem()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var result = Map(h, client, [Friends, Laptop]);

        Assert.Equal(MapStatus.Success, result.Status);
        Assert.Equal([Friends, Laptop], result.Filters);
        Assert.Equal([Friends, Laptop], Assert.Single(h.Table.Entries).Filters);
    }

    [Fact]
    public void Refresh_WithoutFilters_KeepsThem_WithNewOnes_ReplacesThem_WithEmpty_ClearsThem()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        var first = Map(h, client, [Friends]);

        var kept = Map(h, client, null);
        Assert.Equal([Friends], Assert.Single(h.Table.Entries).Filters);
        var replaced = Map(h, client, [Laptop]);
        var refresh = h.Table.Updates[^1];
        Assert.Equal([Friends], Assert.Single(refresh.Remove).Filters);
        Assert.Equal([Laptop], Assert.Single(refresh.Add).Filters);
        var cleared = Map(h, client, []);

        Assert.Empty(Assert.Single(h.Table.Entries).Filters);
        Assert.Equal([first.ExternalPort, first.ExternalPort, first.ExternalPort], [kept.ExternalPort, replaced.ExternalPort, cleared.ExternalPort]);
        Assert.Equal([Friends], kept.Filters);
    }

    [Fact]
    public void Delete_RemovesTheEntryWithItsFilters()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);
        Map(h, client, [Friends]);

        h.Delete(client, MappingProtocol.Tcp, 8080, Nonce(1));

        Assert.Equal([Friends], Assert.Single(h.Table.Updates[^1].Remove).Filters);
        Assert.Empty(h.Table.Entries);
    }

    [Fact]
    public void Map_MoreFiltersThanPolicyAllows_ExcessiveRemotePeers_AndNothingChanges()
    {
        using var h = new ForwardingHarness(new ForwardingPolicy { MaxFiltersPerMapping = 1 });
        var client = h.Connect(2);
        var mapped = Map(h, client, [Friends]);

        var refused = Map(h, client, [Friends, Laptop]);

        Assert.Equal(MapStatus.ExcessiveRemotePeers, refused.Status);
        var entry = Assert.Single(h.Table.Entries);
        Assert.Equal(mapped.ExternalPort, entry.PublicPort);
        Assert.Equal([Friends], entry.Filters);
    }

    [Fact]
    public void Map_FilterOfAnotherFamilyThanThePublicAddress_Refused()
    {
        using var h = new ForwardingHarness();
        var client = h.Connect(2);

        var refused = Map(h, client, [new RemoteFilter(IPNetwork.Parse("2001:db8::/32"), 0)]);

        Assert.Equal(MapStatus.ExcessiveRemotePeers, refused.Status);
        Assert.Empty(h.Table.Entries);
    }

    private static MapResult Map(ForwardingHarness h, IPAddress client, IReadOnlyList<RemoteFilter>? filters) =>
        h.Service.Map(new MapRequest
        {
            Client = client,
            Protocol = MappingProtocol.Tcp,
            InternalPort = 8080,
            Lifetime = TimeSpan.FromSeconds(3600),
            Nonce = Nonce(1),
            Filters = filters,
        });
}
