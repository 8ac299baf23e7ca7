using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The dedicated-address script and listing, pure; the listings are what nft 1.0.6 printed for the lab's elements.</summary>
public sealed class NftDedicatedScriptTests
{
    private static readonly IPAddress Dedicated1 = IPAddress.Parse("198.51.100.11");
    private static readonly IPAddress Dedicated2 = IPAddress.Parse("198.51.100.12");

    private const string Egress = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"map": {"family": "ip", "name": "egress", "table": "portcullis", "type": "ipv4_addr", "handle": 4, "map": "ipv4_addr",
         "elem": [["10.99.0.2", "198.51.100.11"], ["10.99.0.3", "198.51.100.12"]]}}]}
        """;

    private const string Inbound = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"map": {"family": "ip", "name": "dedicated", "table": "portcullis", "type": "ipv4_addr", "handle": 5, "map": "ipv4_addr",
         "elem": [["198.51.100.11", "10.99.0.2"]]}}]}
        """;

    private const string Empty = """
        {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
        {"map": {"family": "ip", "name": "dedicated", "table": "portcullis", "type": "ipv4_addr", "handle": 5, "map": "ipv4_addr"}}]}
        """;

    [Fact]
    public void Parse_EgressAndInbound_JoinsIntoRoutes()
    {
        var routes = NftDedicatedScript.Parse(Egress, Inbound);

        Assert.Equal(
            [
                new DedicatedRoute(Dedicated1, IPAddress.Parse("10.99.0.2"), ForwardAllPorts: true),
                new DedicatedRoute(Dedicated2, IPAddress.Parse("10.99.0.3"), ForwardAllPorts: false),
            ],
            routes);
    }

    [Fact]
    public void Parse_InboundWithoutEgress_ComesBackAsARouteToRemove()
    {
        var routes = NftDedicatedScript.Parse(Empty, Inbound);

        Assert.Equal([new DedicatedRoute(Dedicated1, IPAddress.Parse("10.99.0.2"), ForwardAllPorts: true)], routes);
    }

    [Fact]
    public void Parse_InboundToAnotherTunnelAddress_NotCountedAsTheRoutesEveryPort()
    {
        var inbound = Inbound.Replace("\"198.51.100.11\", \"10.99.0.2\"", "\"198.51.100.11\", \"10.99.0.9\"", StringComparison.Ordinal);

        var routes = NftDedicatedScript.Parse(Egress, inbound);

        Assert.Contains(new DedicatedRoute(Dedicated1, IPAddress.Parse("10.99.0.2"), ForwardAllPorts: false), routes);
        Assert.Contains(new DedicatedRoute(Dedicated1, IPAddress.Parse("10.99.0.9"), ForwardAllPorts: true), routes);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"nftables": [{"map": {"elem": [["10.99.0.2"]]}}]}""")]
    [InlineData("""{"nftables": [{"map": {"elem": [["10.99.0.2", "not an address"]]}}]}""")]
    public void Parse_Malformed_ThrowsForwardingTableException(string json)
    {
        Assert.Throws<ForwardingTableException>(() => NftDedicatedScript.Parse(json, Empty));
    }

    [Fact]
    public void Ranges_ScatteredAndAdjacentPorts_MergedIntoMaximalRuns()
    {
        var ranges = NftDedicatedScript.Ranges(new HashSet<ushort> { 139, 25, 135, 136, 137, 138, 65535, 1, 2, 445 });

        Assert.Equal(["1-2", "25", "135-139", "445", "65535"], ranges);
    }

    [Fact]
    public void Replace_Routes_FlushesAndAddsInOneScript()
    {
        var script = NftDedicatedScript.Replace(
            [
                new DedicatedRoute(Dedicated1, IPAddress.Parse("10.99.0.2"), ForwardAllPorts: true),
                new DedicatedRoute(Dedicated2, IPAddress.Parse("10.99.0.3"), ForwardAllPorts: false),
            ],
            new HashSet<ushort> { 25, 53, 54 });

        var lines = script.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("flush map ip portcullis egress", lines);
        Assert.Contains("flush map ip portcullis dedicated", lines);
        Assert.Contains("flush set ip portcullis dedicated_excluded", lines);
        Assert.Contains("flush set ip portcullis dedicated_addresses", lines);
        Assert.Contains("flush set ip portcullis egress_pairs", lines);
        Assert.Contains("add element ip portcullis egress { 10.99.0.2 : 198.51.100.11, 10.99.0.3 : 198.51.100.12 }", lines);
        Assert.Contains("add element ip portcullis dedicated { 198.51.100.11 : 10.99.0.2 }", lines);
        Assert.Contains("add element ip portcullis dedicated_excluded { 25, 53-54 }", lines);
        Assert.Contains("add element ip portcullis dedicated_addresses { 198.51.100.11, 198.51.100.12 }", lines);
        Assert.Contains("add element ip portcullis egress_pairs { 10.99.0.2 . 198.51.100.11, 10.99.0.3 . 198.51.100.12 }", lines);
        // Every flush comes before every add: the whole replacement is one transaction with no gap.
        Assert.True(Array.FindLastIndex(lines, l => l.StartsWith("flush", StringComparison.Ordinal))
            < Array.FindIndex(lines, l => l.StartsWith("add element", StringComparison.Ordinal)));
    }
}
