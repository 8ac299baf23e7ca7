using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

[SupportedOSPlatform("linux")]
public sealed class PeerConfigTests
{
    private const string File = "gw.toml";

    private static string Peer(string name, string key, string? address = null) =>
        $"[[peer]]\nname = \"{name}\"\npublic_key = \"{key}\"\n" + (address is null ? "" : $"address = \"{address}\"\n");

    [Fact]
    public void Parse_DuplicateNameKeyAndAddress_EachReportedAtTheSecondPeer()
    {
        var key = NewKey();
        var text = Minimal(NewKey(), Peer("alice", key, "10.99.0.2") + Peer("alice", key, "10.99.0.2"));

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal(
        [
            $"{File}:13: [[peer]] name: another [[peer]] (line 8) has this name",
            $"{File}:14: [[peer]] public_key: another [[peer]] (line 8) has this key",
            $"{File}:15: [[peer]] address: another [[peer]] (line 8) has 10.99.0.2",
        ], error.Errors);
    }

    [Theory]
    [InlineData("10.98.0.2", "is not a host address of the tunnel prefix 10.99.0.0/16")]
    [InlineData("10.99.255.255", "is not a host address of the tunnel prefix 10.99.0.0/16")]
    [InlineData("10.99.0.0", "is not a host address of the tunnel prefix 10.99.0.0/16")]
    [InlineData("10.99.0.1", "is the gateway's own tunnel address")]
    [InlineData("10.99.0.2/24", "expected an IPv4 address")]
    public void Parse_PeerAddressNotUsable_IsRejected(string address, string message)
    {
        var text = Minimal(NewKey(), Peer("alice", NewKey(), address));

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        var line = Assert.Single(error.Errors);
        Assert.StartsWith($"{File}:11: [[peer]] address: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PeerAddressWithHostPrefix_IsAccepted()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey(), Peer("alice", NewKey(), "10.99.0.9/32")), File);

        Assert.Equal(System.Net.IPAddress.Parse("10.99.0.9"), config.Peers[0].Address);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    public void Parse_BadPublicKey_IsRejected(string key)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(Minimal(NewKey(), Peer("alice", key)), File));

        Assert.StartsWith($"{File}:10: [[peer]] public_key: expected a base64 WireGuard key", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ForwardWithBadProtocolAndPort_ReportsBoth()
    {
        var text = Minimal(NewKey(), Peer("alice", NewKey()) + "[[peer.forward]]\nprotocol = \"sctp\"\nexternal_port = 70000\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal(
        [
            $"{File}:12: [[peer.forward]] protocol: expected \"tcp\", \"udp\" or \"both\"",
            $"{File}:13: [[peer.forward]] external_port: expected an integer from 1 to 65535",
        ], error.Errors);
    }

    [Theory]
    [InlineData("udp")]
    [InlineData("both")]
    public void Parse_UdpForwardOnTheWireGuardPort_RefusedNamingFileLineAndKey(string protocol)
    {
        var text = Minimal(NewKey(), Peer("alice", NewKey()) + $"[[peer.forward]]\nprotocol = \"{protocol}\"\nexternal_port = 51820\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.StartsWith($"{File}:13: [[peer.forward]] external_port: UDP 51820 is the gateway's own WireGuard port", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_TcpForwardOnTheWireGuardPortNumber_Accepted()
    {
        var text = Minimal(NewKey(), Peer("alice", NewKey()) + "[[peer.forward]]\nprotocol = \"tcp\"\nexternal_port = 51820\n");

        Assert.Equal((ushort)51820, Assert.Single(GatewayConfigLoader.Parse(text, File).Peers[0].Forwards).ExternalPort);
    }

    [Fact]
    public void Parse_ForwardWithoutInternalPort_DefaultsToExternal()
    {
        var text = Minimal(NewKey(), Peer("alice", NewKey()) + "[[peer.forward]]\nprotocol = \"both\"\nexternal_port = 30000\n");

        var forward = Assert.Single(GatewayConfigLoader.Parse(text, File).Peers[0].Forwards);

        Assert.Equal(new StaticForward(ForwardProtocol.Both, 30000, 30000), forward);
    }
}
