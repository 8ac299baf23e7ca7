using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Hosting;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>The network the tables are built from: IPv6 only when configured, allow_destinations split by family.</summary>
[SupportedOSPlatform("linux")]
public sealed class TunnelInterfaceSetupTests
{
    private const string File = "/etc/portcullis/gw.toml";

    [Fact]
    public void Network_Nat66_Ipv6SideWithPublicAddressAndEachFamilysDestinations()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey())
            .Replace("address = \"10.99.0.1/16\"", "address = \"10.99.0.1/16\"\naddress6 = \"fd99::1/64\"", StringComparison.Ordinal)
            .Replace("public_addresses = [\"198.51.100.10\"]",
                "public_addresses = [\"198.51.100.10\"]\npublic_addresses6 = [\"2001:db8:1::a\"]\nallow_destinations = [\"10.20.0.0/16\", \"fd00:20::/48\"]",
                StringComparison.Ordinal), File);

        var network = TunnelInterfaceSetup.Network(config);

        Assert.Equal([IPNetwork.Parse("10.20.0.0/16")], network.AllowedDestinations);
        var v6 = Assert.IsType<Portcullis.Gateway.Forwarding.GatewayNetwork6>(network.Ipv6);
        Assert.Equal(IPNetwork.Parse("fd99::/64"), v6.TunnelPrefix);
        Assert.Equal(IPAddress.Parse("fd99::1"), v6.GatewayTunnelAddress);
        Assert.Equal([IPAddress.Parse("2001:db8:1::a")], v6.PublicAddresses);
        Assert.Equal([IPNetwork.Parse("fd00:20::/48")], v6.AllowedDestinations);
    }

    [Fact]
    public void Network_Routed_NoPublicIpv6AddressSoNoNat()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey())
            .Replace("address = \"10.99.0.1/16\"", "address = \"10.99.0.1/16\"\nrouted_prefix6 = \"2001:db8:99::/64\"", StringComparison.Ordinal), File);

        var v6 = TunnelInterfaceSetup.Network(config).Ipv6!;

        Assert.Empty(v6.PublicAddresses);
        Assert.Equal(IPAddress.Parse("2001:db8:99::1"), v6.GatewayTunnelAddress);
    }

    [Fact]
    public void Network_NoIpv6_NoIpv6Side()
    {
        Assert.Null(TunnelInterfaceSetup.Network(GatewayConfigLoader.Parse(Minimal(NewKey()), File)).Ipv6);
    }
}
