using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>[tunnel] dns: the resolvers generated client configs name, and what the tunnel could not carry refused.</summary>
[SupportedOSPlatform("linux")]
public sealed class TunnelDnsTests
{
    private const string File = "/etc/portcullis/gw.toml";

    private static string WithDns(string dns) =>
        Minimal(NewKey()).Replace("address = \"10.99.0.1/16\"", $"address = \"10.99.0.1/16\"\ndns = {dns}", StringComparison.Ordinal);

    [Fact]
    public void Parse_NoDnsKey_Quad9()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey()), File);

        Assert.Equal([IPAddress.Parse("9.9.9.9"), IPAddress.Parse("149.112.112.112")], config.Tunnel.Dns);
    }

    [Fact]
    public void Parse_GatewaysOwnResolverWithoutAllowDns_RefusedNamingTheKey()
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(WithDns("[\"10.99.0.1\"]"), File));

        Assert.Contains("[tunnel] dns: names the gateway's tunnel address", error.Message, StringComparison.Ordinal);
        Assert.Contains("allow_dns = true", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_GatewaysOwnAndPublicResolvers_KeptInOrder()
    {
        var config = GatewayConfigLoader.Parse(WithDns("[\"10.99.0.1\", \"1.1.1.1\"]").Replace("dns = ", "allow_dns = true\ndns = ", StringComparison.Ordinal), File);

        Assert.Equal([IPAddress.Parse("10.99.0.1"), IPAddress.Parse("1.1.1.1")], config.Tunnel.Dns);
    }

    [Theory]
    [InlineData("[]", "expected at least one resolver")]
    [InlineData("\"9.9.9.9\"", "expected an array")]
    [InlineData("[\"2620:fe::fe\"]", "entry 1: expected an IPv4 address string")]
    [InlineData("[9]", "entry 1: expected an IPv4 address string")]
    [InlineData("[\"9.9.9.9\", \"resolver.example\"]", "entry 2: expected an IPv4 address string")]
    [InlineData("[\"127.0.0.53\"]", "entry 1: loopback")]
    [InlineData("[\"0.0.0.0\"]", "entry 1: loopback")]
    [InlineData("[\"169.254.169.254\"]", "entry 1: loopback")]
    [InlineData("[\"224.0.0.251\"]", "entry 1: loopback")]
    [InlineData("[\"192.168.1.1\"]", "entry 1: a private address outside the tunnel prefix")]
    [InlineData("[\"10.0.0.53\"]", "entry 1: a private address outside the tunnel prefix")]
    [InlineData("[\"172.16.0.53\"]", "entry 1: a private address outside the tunnel prefix")]
    [InlineData("[\"100.64.0.1\"]", "entry 1: a private address outside the tunnel prefix")]
    [InlineData("[\"9.9.9.9\", \"9.9.9.9\"]", "entry 2 is listed twice")]
    [InlineData("[\"9.9.9.9\", \"1.1.1.1\", \"8.8.8.8\", \"10.99.0.53\"]", "expected at most 3 resolvers")]
    public void Parse_BadDns_NamesLineKeyAndReason(string dns, string reason)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(WithDns(dns), File));

        var line = Assert.Single(error.Errors);
        Assert.StartsWith($"{File}:5: [tunnel] dns: ", line, StringComparison.Ordinal);
        Assert.Contains(reason, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PrivateResolverInsideTheTunnelPrefix_Accepted()
    {
        Assert.Equal([IPAddress.Parse("10.99.0.53")], GatewayConfigLoader.Parse(WithDns("[\"10.99.0.53\"]"), File).Tunnel.Dns);
    }
}
