using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>[[peer]] dedicated_address6: NAT66 only, never shared, never two peers'; it reaches the store beside the IPv4 one.</summary>
[SupportedOSPlatform("linux")]
public sealed class DedicatedAddress6ConfigTests
{
    private const string File = "/etc/portcullis/gw.toml";
    private const string Nat66 = "address6 = \"fd99::1/64\"";
    private const string Nat66Addresses = "public_addresses6 = [\"2001:db8:1::a\", \"2001:db8:1::b\"]";
    private const string Routed = "routed_prefix6 = \"2001:db8:99::/64\"";

    // alice's [[peer]] is line 10, its dedicated_address6 line 14; bob's [[peer]] line 16, its dedicated_address6 line 19.
    private static string Config(string tunnel6, string nat6, string alice6, string bob6 = "2001:db8:1::12", string forward = "") =>
        string.Join('\n',
            "[tunnel]",
            "interface = \"pc0\"",
            $"private_key = \"{NewKey()}\"",
            "address = \"10.99.0.1/16\"",
            tunnel6,
            "[nat]",
            "public_interface = \"eth0\"",
            "public_addresses = [\"198.51.100.10\"]",
            nat6,
            "[[peer]]",
            "name = \"alice\"",
            $"public_key = \"{NewKey()}\"",
            "dedicated_address = \"198.51.100.11\"",
            $"dedicated_address6 = \"{alice6}\"",
            forward,
            "[[peer]]",
            "name = \"bob\"",
            $"public_key = \"{NewKey()}\"",
            $"dedicated_address6 = \"{bob6}\"",
            "");

    [Fact]
    public void Parse_Nat66_BothFamiliesReachTheConfiguredPeer()
    {
        var config = GatewayConfigLoader.Parse(Config(Nat66, Nat66Addresses, "2001:db8:1::11"), File);

        Assert.Equal(IPAddress.Parse("2001:db8:1::11"), config.Peers[0].DedicatedAddress6);
        var alice = ConfiguredPeers.From(config)[0];
        Assert.Equal(IPAddress.Parse("198.51.100.11"), alice.DedicatedAddress);
        Assert.Equal(IPAddress.Parse("2001:db8:1::11"), alice.DedicatedAddress6);
    }

    [Fact]
    public void Parse_Ipv6StaticForwardOnThePeersDedicatedAddress6_Allowed()
    {
        var forward = "[[peer.forward]]\nprotocol = \"tcp\"\nexternal_port = 443\npublic_address = \"2001:db8:1::11\"";

        var config = GatewayConfigLoader.Parse(Config(Nat66, Nat66Addresses, "2001:db8:1::11", forward: forward), File);

        Assert.Equal(IPAddress.Parse("2001:db8:1::11"), Assert.Single(ConfiguredPeers.From(config)[0].Forwards).PublicAddress);
    }

    [Theory]
    [InlineData("", "", "2001:db8:1::11", 14, "2001:db8:1::11 is IPv6, which needs NAT66 in the tunnel")]
    [InlineData(Routed, "", "2001:db8:1::11", 14, "with [tunnel] routed_prefix6 every peer already has a global /128 of its own")]
    [InlineData(Nat66, Nat66Addresses, "2001:db8:1::b", 14, "2001:db8:1::b is one of [nat] public_addresses6")]
    [InlineData(Nat66, Nat66Addresses, "2001:db8:1::12", 19, "another [[peer]] (line 10) has 2001:db8:1::12")]
    [InlineData(Nat66, Nat66Addresses, "fd99::5", 14, "fd99::5 lies in the tunnel's IPv6 prefix")]
    [InlineData(Nat66, Nat66Addresses, "198.51.100.20", 14, "expected a unicast IPv6 address")]
    [InlineData(Nat66, Nat66Addresses, "fe80::1", 14, "expected a unicast IPv6 address")]
    public void Parse_BadDedicatedAddress6_NamesFileLineAndKey(string tunnel6, string nat6, string alice6, int line, string reason)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(Config(tunnel6, nat6, alice6), File));

        Assert.True(error.Message.Contains($"{File}:{line}: [[peer]] dedicated_address6: {reason}", StringComparison.Ordinal), error.Message);
    }
}
