using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>Parsing of `nft -j list` output; the samples are what nft 1.0.6 printed for the lab's elements.</summary>
public sealed class NftListingTests
{
    private const string Map = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"map": {"family": "ip", "name": "mappings", "table": "portcullis", "type": ["ipv4_addr", "inet_proto", "inet_service"],
         "handle": 1, "map": "ipv4_addr . inet_service",
         "elem": [[{"concat": ["198.51.100.10", "tcp", 30000]}, {"concat": ["10.99.0.2", 8080]}],
                  [{"concat": ["198.51.100.10", "udp", 30001]}, {"concat": ["10.99.0.3", 5000]}],
                  [{"concat": ["198.51.100.10", "tcp", 30002]}, {"concat": ["10.99.0.4", 22]}]]}}]}
        """;

    private const string Leases = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"set": {"family": "ip", "name": "leases", "table": "portcullis", "type": ["ipv4_addr", "inet_proto", "inet_service"],
         "handle": 2, "flags": ["timeout"],
         "elem": [{"elem": {"val": {"concat": ["198.51.100.10", "tcp", 30000]}, "timeout": 3600, "expires": 3599, "comment": "peer-1"}},
                  {"elem": {"val": {"concat": ["198.51.100.10", "udp", 30001]}, "comment": "peer-2"}}]}}]}
        """;

    [Fact]
    public void Parse_MapAndLeases_JoinsOwnersAndRemainingTime()
    {
        var entries = NftListing.Parse(Map, Leases);

        Assert.Equal(3, entries.Count);
        Assert.Equal(Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromSeconds(3599)), entries[0]);
        Assert.Equal(Entries.Udp(30001, Entries.Client2, 5000, "peer-2"), entries[1]);
    }

    [Fact]
    public void Parse_MapElementWithoutLease_EmptyOwnerZeroTimeout()
    {
        var orphan = NftListing.Parse(Map, Leases)[2];

        Assert.Equal(string.Empty, orphan.Owner);
        Assert.Equal(TimeSpan.Zero, orphan.Timeout);
        Assert.Equal(MappingProtocol.Tcp, orphan.Protocol);
        Assert.Equal((ushort)22, orphan.InternalPort);
    }

    [Fact]
    public void Parse_EmptyMap_NoEntries()
    {
        const string empty = """{"nftables": [{"metainfo": {}}, {"map": {"name": "mappings"}}]}""";

        Assert.Empty(NftListing.Parse(empty, empty.Replace("map", "set", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("""{"nftables": [{"map": {"elem": [[{"concat": ["198.51.100.10", "sctp", 1]}, {"concat": ["10.99.0.2", 1]}]]}}]}""")]
    [InlineData("""{"nftables": [{"map": {"elem": [[{"concat": ["198.51.100.10", "tcp", 70000]}, {"concat": ["10.99.0.2", 1]}]]}}]}""")]
    [InlineData("""{"nftables": [{"map": {"elem": [[{"concat": ["not-an-ip", "tcp", 1]}, {"concat": ["10.99.0.2", 1]}]]}}]}""")]
    [InlineData("""{"nftables": [{"map": {"elem": [[{"concat": ["198.51.100.10", "tcp", 1]}]]}}]}""")]
    [InlineData("""{"nftables": [{"map": {"elem": [[{"concat": ["198.51.100.10", "tcp"]}, {"concat": ["10.99.0.2", 1]}]]}}]}""")]
    [InlineData("""{"other": []}""")]
    public void Parse_Malformed_ThrowsForwardingTableException(string map) =>
        Assert.Throws<ForwardingTableException>(() => NftListing.Parse(map, Leases));
}
