using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>[tunnel] address6 / routed_prefix6 and [nat] public_addresses6; a peer's IPv6 address is its IPv4 one's twin.</summary>
[SupportedOSPlatform("linux")]
public sealed class Ipv6ConfigTests
{
    private const string File = "/etc/portcullis/gw.toml";

    // Minimal's [tunnel] is lines 1-4, so a key added to it is on line 5; [nat]'s keys follow.
    private static string With(string tunnel, string nat = "") =>
        Minimal(NewKey())
            .Replace("address = \"10.99.0.1/16\"", $"address = \"10.99.0.1/16\"\n{tunnel}", StringComparison.Ordinal)
            .Replace("public_addresses = [\"198.51.100.10\"]", $"public_addresses = [\"198.51.100.10\"]\n{nat}", StringComparison.Ordinal);

    [Fact]
    public void Parse_NoIpv6Keys_TunnelCarriesIpv4Only()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey()), File);

        Assert.Null(config.Tunnel.Ipv6);
        Assert.Null(config.Tunnel.Address6);
        Assert.Empty(config.Nat.PublicAddresses6);
    }

    [Fact]
    public void Parse_Address6WithPublicAddresses6_Nat66WithTheGatewaysTwin()
    {
        var config = GatewayConfigLoader.Parse(With("address6 = \"fd99::1/64\"", "public_addresses6 = [\"2001:db8:1::a\"]"), File);

        var ipv6 = Assert.IsType<TunnelIpv6>(config.Tunnel.Ipv6);
        Assert.False(ipv6.Routed);
        Assert.Equal(IPNetwork.Parse("fd99::/64"), ipv6.Prefix);
        Assert.Equal(IPAddress.Parse("fd99::1"), config.Tunnel.Address6);
        Assert.Equal([IPAddress.Parse("2001:db8:1::a")], config.Nat.PublicAddresses6);
    }

    [Fact]
    public void Parse_RoutedPrefix6_RoutedWithoutPublicAddresses6()
    {
        var config = GatewayConfigLoader.Parse(With("routed_prefix6 = \"2001:db8:99::/64\""), File);

        Assert.True(config.Tunnel.Ipv6!.Routed);
        Assert.Equal(IPAddress.Parse("2001:db8:99::1"), config.Tunnel.Address6);
    }

    [Theory]
    [InlineData("10.99.0.2", "fd99::2")]
    [InlineData("10.99.1.2", "fd99::102")]
    [InlineData("10.99.255.254", "fd99::fffe")]
    public void Twin_HostNumberCarriedOver(string ipv4, string ipv6)
    {
        var tunnel = new TunnelIpv6(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

        Assert.Equal(IPAddress.Parse(ipv6), tunnel.Twin(IPAddress.Parse(ipv4)));
    }

    [Fact]
    public void Twin_AddressOutsideTheIpv4Prefix_Throws()
    {
        var tunnel = new TunnelIpv6(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

        Assert.Throws<ArgumentException>(() => tunnel.Twin(IPAddress.Parse("10.98.0.2")));
    }

    [Theory]
    [InlineData("address6 = \"fd99::1/64\"\nrouted_prefix6 = \"2001:db8:99::/64\"", "", 6, "routed_prefix6: give either address6")]
    [InlineData("address6 = \"fd99::1\"", "public_addresses6 = [\"2001:db8:1::a\"]", 5, "address6: expected the gateway's IPv6 tunnel address")]
    [InlineData("address6 = \"10.99.0.1/16\"", "public_addresses6 = [\"2001:db8:1::a\"]", 5, "address6: expected the gateway's IPv6 tunnel address")]
    [InlineData("address6 = \"fe80::1/64\"", "public_addresses6 = [\"2001:db8:1::a\"]", 5, "address6: expected the gateway's IPv6 tunnel address")]
    [InlineData("address6 = \"fd99::7/64\"", "public_addresses6 = [\"2001:db8:1::a\"]", 5, "address6: the gateway's IPv6 address must be its address's twin, fd99::1/64")]
    [InlineData("address6 = \"fd99::1/120\"", "public_addresses6 = [\"2001:db8:1::a\"]", 5, "address6: /120 is too long")]
    [InlineData("address6 = \"fd99::1/64\"", "", 5, "[tunnel] address6: NAT66 needs [nat] public_addresses6")]
    [InlineData("routed_prefix6 = \"2001:db8:99::1/64\"", "", 5, "routed_prefix6: expected a prefix without host bits")]
    [InlineData("routed_prefix6 = \"2001:db8:99::/64\"", "public_addresses6 = [\"198.51.100.10\"]", 9, "public_addresses6: expected an array of IPv6 unicast address strings")]
    [InlineData("routed_prefix6 = \"2001:db8:99::/64\"", "public_addresses6 = [\"2001:db8:1::a\", \"2001:db8:1::a\"]", 9, "public_addresses6: 2001:db8:1::a is listed twice")]
    public void Parse_BadIpv6Value_NamesFileLineAndKey(string tunnel, string nat, int line, string reason)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(With(tunnel, nat), File));

        Assert.Contains($"{File}:{line}: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AllowDestinationsWithIpv6_KeptBesideIpv4()
    {
        var config = GatewayConfigLoader.Parse(With("", "allow_destinations = [\"10.20.0.0/16\", \"fd00:20::/48\"]"), File);

        Assert.Equal([IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("fd00:20::/48")], config.Nat.AllowDestinations);
    }
}
