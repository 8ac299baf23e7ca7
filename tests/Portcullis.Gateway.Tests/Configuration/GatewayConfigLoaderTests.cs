using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.PortMapping;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

[SupportedOSPlatform("linux")]
public sealed class GatewayConfigLoaderTests
{
    private const string File = "/etc/portcullis/gw.toml";

    [Fact]
    public void Parse_DesignExample_ReadsEverySection()
    {
        var (key, alice, bob) = (NewKey(), NewKey(), NewKey());

        var config = GatewayConfigLoader.Parse(Design(key, alice, bob), File);

        Assert.Equal("pc0", config.Tunnel.Interface);
        Assert.Equal(Convert.FromBase64String(key), config.Tunnel.PrivateKey);
        Assert.Equal(51820, config.Tunnel.ListenPort);
        Assert.Equal(IPAddress.Parse("10.99.0.1"), config.Tunnel.Address);
        Assert.Equal(IPNetwork.Parse("10.99.0.0/16"), config.Tunnel.Prefix);
        Assert.Equal("eth0", config.Nat.PublicInterface);
        Assert.Equal([IPAddress.Parse("198.51.100.10")], config.Nat.PublicAddresses);
        Assert.True(config.Forwarding.Enabled);
        Assert.Equal(new Gateway.Forwarding.PortRange(20000, 59999), config.Forwarding.PortRange);
        Assert.Equal(4, config.Forwarding.MaxPerPeer);
        Assert.Equal("/var/lib/portcullis/portcullis.db", config.Store.Path);
        Assert.Equal(IPEndPoint.Parse("127.0.0.1:8351"), config.Admin.Listen);
        Assert.Equal("/etc/portcullis/admin.token", config.Admin.TokenFile);
        Assert.Equal(2, config.Peers.Count);
        Assert.Equal("alice", config.Peers[0].Name);
        Assert.Equal(alice, config.Peers[0].PublicKeyBase64);
        Assert.Equal(IPAddress.Parse("10.99.0.2"), config.Peers[0].Address);
        Assert.Equal(IPAddress.Parse("198.51.100.11"), config.Peers[0].DedicatedAddress);
        Assert.Equal([new StaticForward(ForwardProtocol.Tcp, 30000, 8080)], config.Peers[0].Forwards);
        Assert.Equal("bob", config.Peers[1].Name);
        Assert.Null(config.Peers[1].Address);
        Assert.Empty(config.Peers[1].Forwards);
    }

    [Fact]
    public void Parse_BadPortRange_NamesFileLineAndKey()
    {
        var text = Design(NewKey(), NewKey(), NewKey()).Replace("\"20000-59999\"", "\"59999-20000\"", StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal(
            ["/etc/portcullis/gw.toml:13: [forwarding] port_range: expected \"LOW-HIGH\" with 1 <= LOW <= HIGH <= 65535"],
            error.Errors);
    }

    [Theory]
    [InlineData("0-100")]
    [InlineData("1-65536")]
    [InlineData("100")]
    [InlineData("a-b")]
    [InlineData("1--2")]
    public void Parse_PortRangeVariants_RejectsAllButRanges(string range)
    {
        var text = Minimal(NewKey(), $"[forwarding]\nport_range = \"{range}\"\n");

        if (range == "100")
            Assert.Equal(new Gateway.Forwarding.PortRange(100, 100), GatewayConfigLoader.Parse(text, File).Forwarding.PortRange);
        else
            Assert.Contains("port_range", Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKeyAndSection_EachNamedWithItsLine()
    {
        var text = Minimal(NewKey(), "listen_prot = 5\n[forwardng]\nenabled = true\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal(
            [$"{File}:8: [nat] listen_prot: unknown key", $"{File}:9: [forwardng]: unknown section"],
            error.Errors);
    }

    [Fact]
    public void Parse_RootLevelKey_IsRejected()
    {
        var text = "interface = \"pc0\"\n" + Minimal(NewKey());

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Contains($"{File}:1: interface: unknown key", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingSectionsAndKeys_ReportsEach()
    {
        const string text = "[tunnel]\ninterface = \"pc0\"\n";

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Contains($"{File}:1: [tunnel] private_key: required key is missing", error.Errors);
        Assert.Contains($"{File}:1: [tunnel] address: required key is missing", error.Errors);
        Assert.Contains($"{File}:1: [nat]: required section is missing", error.Errors);
    }

    [Fact]
    public void Parse_WrongType_SaysWhatWasExpected()
    {
        var text = Minimal(NewKey()).Replace("interface = \"pc0\"", "interface = \"pc0\"\nlisten_port = \"51820\"", StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:3: [tunnel] listen_port: expected an integer"], error.Errors);
    }

    [Fact]
    public void Parse_SyntaxError_NamesTheLine()
    {
        var text = Minimal(NewKey(), "[forwarding]\nenabled = \n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.StartsWith($"{File}:9: ", error.Errors[0], StringComparison.Ordinal);
    }

    // Tomlyn throws on these instead of reporting them (found by fuzzing); the loader still gives a clear error.
    [Theory]
    [InlineData("port_range = \"1\\")]
    [InlineData("port_range = \"\"\"1\\")]
    public void Parse_EscapeCutOffByTheEndOfTheFile_NamesTheLine(string last)
    {
        var text = Minimal(NewKey(), "[forwarding]\n").TrimEnd() + "\n" + last;

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:9: a backslash escape is cut off by the end of the file"], error.Errors);
    }

    [Fact]
    public void Parse_ArraysNestedBeyondTomlynsDepth_NamesTheLine()
    {
        var text = Minimal(NewKey(), "[forwarding]\nblocked_ports = [\n" + new string('[', 100) + new string(']', 101) + "\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:10: arrays or inline tables nested more than 64 deep"], error.Errors);
    }

    [Fact]
    public void Parse_BadPrivateKey_ErrorNeverShowsTheValue()
    {
        var shortKey = Convert.ToBase64String(new byte[31]);
        var text = Minimal(shortKey);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:3: [tunnel] private_key: expected a base64 WireGuard key of 32 bytes (as `wg genkey` prints)"], error.Errors);
    }

    [Fact]
    public void Parse_DuplicatedPrivateKey_SyntaxErrorNeverShowsTheValue()
    {
        var key = NewKey();
        var text = Minimal(key).Replace("address =", $"private_key = \"{key}\"\naddress =", StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.StartsWith($"{File}:4: ", error.Errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(key[..20], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private_key \"{0}\"")]       // found by fuzz/run gateway-toml: Tomlyn quotes the text after the key
    [InlineData("private_key\n\"{0}\"")]
    [InlineData("private_key = \"{0}\" x")]
    public void Parse_MalformedPrivateKeyLine_SyntaxErrorNeverShowsTheValue(string line)
    {
        var key = NewKey();
        var text = Minimal(key).Replace($"private_key = \"{key}\"", string.Format(CultureInfo.InvariantCulture, line, key), StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.StartsWith($"{File}:", error.Errors[0], StringComparison.Ordinal);
        Assert.DoesNotContain(key[..20], error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Expecting `=` after a key instead of \"{0}\"")]
    [InlineData("Expecting `=` after a key instead of \"= \"{0}\"\"")] // a quote inside the quoted text
    [InlineData("Duplicate key `{0}`")]
    public void Scrub_QuotedKey_IsReplaced(string message)
    {
        var key = NewKey();

        var scrubbed = SyntaxMessages.Scrub(string.Format(CultureInfo.InvariantCulture, message, key));

        Assert.DoesNotContain(key[..20], scrubbed, StringComparison.Ordinal);
        Assert.Equal("Duplicate key `listen_port` in \"tunnel\"", SyntaxMessages.Scrub("Duplicate key `listen_port` in \"tunnel\""));
    }

    [Theory]
    [InlineData("10.99.0.1", "address")]
    [InlineData("10.99.0.0/16", "address")]
    [InlineData("10.99.0.1/31", "address")]
    [InlineData("fd00::1/64", "address")]
    public void Parse_BadTunnelAddress_IsRejected(string address, string key)
    {
        var text = Minimal(NewKey()).Replace("10.99.0.1/16", address, StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Contains($"{File}:4: [tunnel] {key}:", error.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadInterfaceNames_AreRejected()
    {
        var text = Minimal(NewKey()).Replace("\"pc0\"", "\"a-name-longer-than-15\"", StringComparison.Ordinal)
            .Replace("\"eth0\"", "\"eth/0\"", StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal(2, error.Errors.Count);
        Assert.StartsWith($"{File}:2: [tunnel] interface:", error.Errors[0], StringComparison.Ordinal);
        Assert.StartsWith($"{File}:6: [nat] public_interface:", error.Errors[1], StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_OptionalPolicyKeys_ReachTheForwardingPolicy()
    {
        var text = Minimal(NewKey(), """
            [forwarding]
            enabled = false
            max_per_peer = 2
            min_lifetime = 60
            max_lifetime = 600
            quarantine = 30
            reconnect_grace = 20
            blocked_ports = [25, "30000-30002"]
            blocked_internal_ports = []
            requests_per_second = 9
            burst = 11
            allow_suggested_port = true
            audit_log = true
            """);

        var policy = GatewayConfigLoader.Parse(text, File).Forwarding;

        Assert.False(policy.Enabled);
        Assert.Equal(2, policy.MaxPerPeer);
        Assert.Equal(TimeSpan.FromSeconds(60), policy.MinLifetime);
        Assert.Equal(TimeSpan.FromSeconds(600), policy.MaxLifetime);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.Quarantine);
        Assert.Equal(TimeSpan.FromSeconds(20), policy.ReconnectGrace);
        Assert.Equal(new HashSet<ushort> { 25, 30000, 30001, 30002 }, policy.BlockedExternalPorts);
        Assert.Empty(policy.BlockedInternalPorts);
        Assert.Equal(9, policy.RequestsPerSecond);
        Assert.Equal(11, policy.Burst);
        Assert.True(policy.AllowSuggestedPort);
        Assert.True(policy.AuditLog);
    }

    [Fact]
    public void Parse_MaxFiltersPerMapping_ReachesPolicy_AndOutOfRangeNamesFileLineAndKey()
    {
        var good = Minimal(NewKey(), "[forwarding]\nmax_filters_per_mapping = 3\n");
        var bad = Minimal(NewKey(), "[forwarding]\nmax_filters_per_mapping = 44\n");

        Assert.Equal(3, GatewayConfigLoader.Parse(good, File).Forwarding.MaxFiltersPerMapping);
        Assert.Equal(8, GatewayConfigLoader.Parse(Minimal(NewKey(), ""), File).Forwarding.MaxFiltersPerMapping);
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(bad, File));
        Assert.StartsWith($"{File}:9: [forwarding] max_filters_per_mapping:", Assert.Single(error.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MinLifetimeAboveMax_IsRejected()
    {
        var text = Minimal(NewKey(), "[forwarding]\nmin_lifetime = 700\nmax_lifetime = 600\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:10: [forwarding] max_lifetime: min_lifetime must not exceed max_lifetime"], error.Errors);
    }

    [Fact]
    public void Parse_ForwardBeforeAnyPeer_IsRejected()
    {
        var text = Minimal(NewKey(), "[[peer.forward]]\nprotocol = \"tcp\"\nexternal_port = 1\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Contains("[[peer.forward]] must follow", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SessionTimeoutAndPeerToPeer_AreRead()
    {
        var text = Minimal(NewKey()).Replace("interface = \"pc0\"", "interface = \"pc0\"\nsession_timeout = 20\nallow_peer_to_peer = true", StringComparison.Ordinal);

        var tunnel = GatewayConfigLoader.Parse(text, File).Tunnel;

        Assert.Equal(TimeSpan.FromSeconds(20), tunnel.SessionTimeout);
        Assert.True(tunnel.AllowPeerToPeer);
    }

    [Fact]
    public void Parse_ExposureKeysLeftOut_NoDnsAndNoNonPublicDestination()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey()), File);

        Assert.False(config.Tunnel.AllowDns);
        Assert.Empty(config.Nat.AllowDestinations);
    }

    [Fact]
    public void Parse_AllowDnsAndAllowDestinations_AreRead()
    {
        var text = Minimal(NewKey()).Replace("interface = \"pc0\"", "interface = \"pc0\"\nallow_dns = true", StringComparison.Ordinal)
            .Replace("public_interface = \"eth0\"", "public_interface = \"eth0\"\nallow_destinations = [\"10.20.0.0/16\", \"169.254.169.123\"]", StringComparison.Ordinal);

        var config = GatewayConfigLoader.Parse(text, File);

        Assert.True(config.Tunnel.AllowDns);
        Assert.Equal([IPNetwork.Parse("10.20.0.0/16"), IPNetwork.Parse("169.254.169.123/32")], config.Nat.AllowDestinations);
    }

    [Theory]
    [InlineData("[\"10.20.0.5/16\"]")]
    [InlineData("[\"fd00::1/8\"]")]
    [InlineData("[\"10.20.0.0/33\"]")]
    [InlineData("[16]")]
    [InlineData("\"10.0.0.0/8\"")]
    public void Parse_BadAllowDestinations_NamesLineAndKey(string value)
    {
        var text = Minimal(NewKey()).Replace("public_interface = \"eth0\"", $"public_interface = \"eth0\"\nallow_destinations = {value}", StringComparison.Ordinal);

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        var message = Assert.Single(error.Errors);
        Assert.StartsWith("/etc/portcullis/gw.toml:7: [nat] allow_destinations: expected ", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RelativeStoreAndTokenPaths_ResolveAgainstTheConfigFolder()
    {
        var text = Minimal(NewKey(), "[store]\npath = \"state/gw.db\"\n[admin]\ntoken_file = \"admin.token\"\n");

        var config = GatewayConfigLoader.Parse(text, "/etc/portcullis/gw.toml");

        Assert.Equal("/etc/portcullis/state/gw.db", config.Store.Path);
        Assert.Equal("/etc/portcullis/admin.token", config.Admin.TokenFile);
    }

    [Fact]
    public void ToString_OfTunnelSection_LeavesThePrivateKeyOut()
    {
        var key = NewKey();
        var config = GatewayConfigLoader.Parse(Minimal(key), File);

        Assert.DoesNotContain(key, config.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PrivateKey", config.Tunnel.ToString(), StringComparison.Ordinal);
    }
}
