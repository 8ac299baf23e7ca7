using System.Text;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The inbound-limit chain's script and counter listing, pure; the listing is what nft 1.0.6 printed.</summary>
public sealed class NftInboundLimitScriptTests
{
    [Fact]
    public void Replace_BothLimits_RateWithBurstOfTheRateThenCountEachKeyedByTheForwardsDestination()
    {
        var script = NftInboundLimitScript.Replace(new InboundLimits(3, 2));

        Assert.Equal(
            """
            flush chain ip portcullis inbound_limits
            flush set ip portcullis inbound_rate
            flush set ip portcullis inbound_connections
            add rule ip portcullis inbound_limits update @inbound_rate { ip daddr . meta l4proto . th dport limit rate over 3/second burst 3 packets } counter name "inbound_rate_drops" drop
            add rule ip portcullis inbound_limits add @inbound_connections { ip daddr . meta l4proto . th dport ct count over 2 } counter name "inbound_connection_drops" drop

            """.ReplaceLineEndings("\n"),
            script.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Replace_NoLimits_EmptiesTheChainAndAddsNoRule()
    {
        var script = NftInboundLimitScript.Replace(InboundLimits.None);

        Assert.Contains("flush chain ip portcullis inbound_limits", script, StringComparison.Ordinal);
        Assert.DoesNotContain("add rule", script, StringComparison.Ordinal);
    }

    [Fact]
    public void AppendDeclarations_CountersSetsAndChainCreatedIfAbsent()
    {
        var s = new StringBuilder();
        NftInboundLimitScript.AppendDeclarations(s, new InboundLimits(0, 5));
        var script = s.ToString();

        Assert.Contains("add counter ip portcullis inbound_rate_drops", script, StringComparison.Ordinal);
        Assert.Contains("add counter ip portcullis inbound_connection_drops", script, StringComparison.Ordinal);
        Assert.Contains("add chain ip portcullis inbound_limits", script, StringComparison.Ordinal);
        Assert.Contains("ct count over 5", script, StringComparison.Ordinal);
        Assert.DoesNotContain("limit rate", script, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseCounters_Listing_PacketsByReason()
    {
        const string Listing = """
            {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
            {"counter": {"family": "ip", "name": "inbound_rate_drops", "table": "portcullis", "handle": 1, "packets": 7, "bytes": 420}},
            {"counter": {"family": "ip", "name": "inbound_connection_drops", "table": "portcullis", "handle": 2, "packets": 2, "bytes": 120}}]}
            """;

        Assert.Equal(new InboundDropCounts(7, 2), NftInboundLimitScript.ParseCounters(Listing));
    }

    [Fact]
    public void ParseCounters_BothFamilies_SummedByReason_OtherTablesIgnored()
    {
        const string Listing = """
            {"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
            {"counter": {"family": "ip", "name": "inbound_rate_drops", "table": "portcullis", "handle": 1, "packets": 7, "bytes": 420}},
            {"counter": {"family": "ip", "name": "inbound_connection_drops", "table": "portcullis", "handle": 2, "packets": 2, "bytes": 120}},
            {"counter": {"family": "ip6", "name": "inbound_rate_drops", "table": "portcullis", "handle": 1, "packets": 3, "bytes": 240}},
            {"counter": {"family": "ip6", "name": "inbound_connection_drops", "table": "portcullis", "handle": 2, "packets": 1, "bytes": 80}},
            {"counter": {"family": "inet", "name": "inbound_rate_drops", "table": "hostfw", "handle": 4, "packets": 100, "bytes": 6000}}]}
            """;

        Assert.Equal(new InboundDropCounts(10, 3), NftInboundLimitScript.ParseCounters(Listing));
    }

    [Fact]
    public void Replace_WithIpv6_RewritesBothTablesChains()
    {
        var script = NftInboundLimitScript.Replace(new InboundLimits(3, 0), ipv6: true);

        Assert.Contains("add rule ip portcullis inbound_limits update @inbound_rate { ip daddr . meta l4proto . th dport limit rate over 3/second", script, StringComparison.Ordinal);
        Assert.Contains("flush set ip6 portcullis inbound_connections", script, StringComparison.Ordinal);
        Assert.Contains("add rule ip6 portcullis inbound_limits update @inbound_rate { ip6 daddr . meta l4proto . th dport limit rate over 3/second", script, StringComparison.Ordinal);
        Assert.DoesNotContain("ip6", NftInboundLimitScript.Replace(new InboundLimits(3, 0)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 0)]
    [InlineData(0, -1)]
    [InlineData(InboundLimits.Max + 1, 0)]
    public void Validate_OutOfRange_Throws(int rate, int connections) =>
        Assert.Throws<ArgumentException>(() => new InboundLimits(rate, connections).Validate());
}
