using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>[[peer.forward]] public_address: IPv4 or IPv6, and only an address this gateway has for that peer.</summary>
[SupportedOSPlatform("linux")]
public sealed class ForwardPublicAddressConfigTests
{
    private const string File = "/etc/portcullis/gw.toml";
    private const string Nat66 = "address6 = \"fd99::1/64\"";
    private const string Nat66Addresses = "public_addresses6 = [\"2001:db8:1::a\", \"2001:db8:1::b\"]";
    private const string Routed = "routed_prefix6 = \"2001:db8:99::/64\"";

    // Line numbers are part of the tests: [[peer.forward]] of alice is lines 15-19 (internal_port 18,
    // public_address 19); bob's [[peer]] is line 20.
    private static string Config(string tunnel6, string nat6, string publicAddress, int internalPort = 8080, bool aliceHasAddress = true) =>
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
            aliceHasAddress ? "address = \"10.99.0.2\"" : "# no address",
            "dedicated_address = \"198.51.100.11\"",
            "[[peer.forward]]",
            "protocol = \"tcp\"",
            "external_port = 30000",
            $"internal_port = {internalPort}",
            $"public_address = \"{publicAddress}\"",
            "[[peer]]",
            "name = \"bob\"",
            $"public_key = \"{NewKey()}\"",
            "dedicated_address = \"198.51.100.12\"",
            "");

    [Theory]
    [InlineData(Nat66, Nat66Addresses, "2001:db8:1::b", 8080)]
    [InlineData(Routed, "", "2001:db8:99::2", 30000)]
    [InlineData("", "", "198.51.100.10", 8080)]
    [InlineData("", "", "198.51.100.11", 8080)]
    public void Parse_AddressTheGatewayHasForThePeer_CarriedToTheStoredForward(string tunnel6, string nat6, string address, int internalPort)
    {
        var config = GatewayConfigLoader.Parse(Config(tunnel6, nat6, address, internalPort), File);

        var forward = Assert.Single(config.Peers[0].Forwards);
        Assert.Equal(IPAddress.Parse(address), forward.PublicAddress);
        var configured = Assert.Single(ConfiguredPeers.From(config)[0].Forwards);
        Assert.Equal(new ConfiguredForward(IPAddress.Parse(address), MappingProtocol.Tcp, 30000, (ushort)internalPort), configured);
    }

    [Fact]
    public void Parse_NoPublicAddress_PeersDedicatedAddressAsBefore()
    {
        var text = Config("", "", "198.51.100.10").Replace("public_address = \"198.51.100.10\"", "", StringComparison.Ordinal);

        var config = GatewayConfigLoader.Parse(text, File);

        Assert.Null(config.Peers[0].Forwards[0].PublicAddress);
        Assert.Equal(IPAddress.Parse("198.51.100.11"), ConfiguredPeers.From(config)[0].Forwards[0].PublicAddress);
    }

    [Theory]
    [InlineData("", "", "2001:db8:1::a", 8080, 19, "public_address: 2001:db8:1::a is IPv6, which needs IPv6 in the tunnel")]
    [InlineData(Nat66, Nat66Addresses, "2001:db8:1::c", 8080, 19, "public_address: 2001:db8:1::c is not one of [nat] public_addresses6")]
    [InlineData(Nat66, Nat66Addresses, "fe80::1", 8080, 19, "public_address: expected an IPv4 or unicast IPv6 address")]
    [InlineData("", "", "gateway", 8080, 19, "public_address: expected an IPv4 or unicast IPv6 address")]
    [InlineData(Routed, "", "2001:db8:99::3", 30000, 19, "public_address: with routed_prefix6 an IPv6 forward is the peer's own /128, 2001:db8:99::2, not 2001:db8:99::3")]
    [InlineData(Routed, "", "2001:db8:99::2", 8080, 18, "internal_port: with routed_prefix6 nothing is translated")]
    [InlineData("", "", "198.51.100.12", 8080, 19, "public_address: 198.51.100.12 is another peer's dedicated address ([[peer]] at line 20)")]
    [InlineData("", "", "203.0.113.1", 8080, 19, "public_address: 203.0.113.1 is neither one of [nat] public_addresses nor this peer's dedicated_address")]
    public void Parse_AddressTheGatewayDoesNotHaveForThePeer_NamesFileLineAndKey(string tunnel6, string nat6, string address, int internalPort, int line, string reason)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(Config(tunnel6, nat6, address, internalPort), File));

        Assert.Contains($"{File}:{line}: [[peer.forward]] {reason}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RoutedForwardOfAPeerWithoutAddress_AsksForTheAddress()
    {
        var error = Assert.Throws<GatewayConfigException>(() =>
            GatewayConfigLoader.Parse(Config(Routed, "", "2001:db8:99::2", 30000, aliceHasAddress: false), File));

        Assert.Contains($"{File}:19: [[peer.forward]] public_address: with routed_prefix6 an IPv6 forward is the peer's own /128; give the [[peer]] its address", error.Message, StringComparison.Ordinal);
    }
}
