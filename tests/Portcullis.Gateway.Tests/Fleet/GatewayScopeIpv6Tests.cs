using System.Net;
using Portcullis.Gateway.Fleet;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Fleet;

/// <summary>An IPv6 static forward is pinned: it lives on the gateway that has its address (NAT66 or routed prefix).</summary>
public sealed class GatewayScopeIpv6Tests
{
    private static readonly IPAddress[] Shared = [IPAddress.Parse("198.51.100.10")];

    private static StoredForward Forward(string address) => new()
    {
        PublicAddress = IPAddress.Parse(address),
        Protocol = MappingProtocol.Tcp,
        ExternalPort = 8080,
        PeerId = "p1",
        InternalPort = 8080,
    };

    [Theory]
    [InlineData("2001:db8:1::a", true)]
    [InlineData("2001:db8:2::a", false)] // another gateway's public IPv6 address
    public void Rule_Nat66_OnlyOnTheGatewayWithThatAddress(string address, bool here)
    {
        var scope = new GatewayScope("ams-1", Shared, [IPAddress.Parse("2001:db8:1::a")]);

        var rule = scope.Rule(Forward(address), new HashSet<IPAddress>());

        Assert.Equal(here, rule is not null);
        if (rule is not null)
            Assert.Equal(IPAddress.Parse(address), rule.PublicAddress);
    }

    [Theory]
    [InlineData("2001:db8:99::2", true)]
    [InlineData("2001:db8:98::2", false)] // a /128 of another gateway's routed prefix
    public void Rule_Routed_OnlyOnTheGatewayRoutingThatPrefix(string address, bool here)
    {
        var scope = new GatewayScope("ams-1", Shared, routedPrefix6: IPNetwork.Parse("2001:db8:99::/64"));

        Assert.Equal(here, scope.Rule(Forward(address), new HashSet<IPAddress>()) is not null);
    }

    [Fact]
    public void Rule_Ipv6WithoutIpv6OnThisGateway_LivesElsewhere()
    {
        var scope = new GatewayScope("ams-1", Shared);

        Assert.Null(scope.Rule(Forward("2001:db8:1::a"), new HashSet<IPAddress>()));
    }
}
