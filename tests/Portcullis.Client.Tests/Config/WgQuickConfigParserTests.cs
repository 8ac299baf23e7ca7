using System.Net;
using Portcullis.Client.Config;

namespace Portcullis.Client.Tests.Config;

public sealed class WgQuickConfigParserTests
{
    private static readonly string PrivateKey = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
    private static readonly string PublicKey = Convert.ToBase64String(Enumerable.Range(100, 32).Select(i => (byte)i).ToArray());
    private static readonly string OtherKey = Convert.ToBase64String(Enumerable.Range(50, 32).Select(i => (byte)i).ToArray());

    private static string Minimal(string interfaceExtra = "", string peerExtra = "") => $"""
        [Interface]
        PrivateKey = {PrivateKey}
        {interfaceExtra}

        [Peer]
        PublicKey = {PublicKey}
        {peerExtra}
        """;

    private static WgQuickConfigException Refused(string text) =>
        Assert.Throws<WgQuickConfigException>(() => WgQuickConfigParser.Parse(text, "/etc/wg/test.conf"));

    [Fact]
    public void Parse_FullFile_ReadsEveryKey()
    {
        var text = $"""
            # a comment
            [interface]
            privatekey = {PrivateKey}
            Address = 10.99.0.2/16, fd00:99::2/64
            Address = 10.98.0.2
            DNS = 10.99.0.1, 2001:db8::53, example.org
            MTU = 1380
            ListenPort = 51000
            FwMark = 0x1234
            Table = auto

            [Peer]
            PublicKey = {PublicKey}   # the gateway
            PresharedKey = {OtherKey}
            Endpoint = [2001:db8::10]:51820
            AllowedIPs = 0.0.0.0/0, ::/0
            AllowedIPs = 10.1.2.3/24
            PersistentKeepalive = 25
            """;
        using var config = WgQuickConfigParser.Parse(text, "x.conf");

        Assert.Equal(Convert.FromBase64String(PrivateKey), config.Interface.PrivateKey);
        Assert.Equal(["10.99.0.2/16", "fd00:99::2/64", "10.98.0.2/32"], config.Interface.Addresses.Select(a => a.ToString()));
        Assert.Equal([IPAddress.Parse("10.99.0.1"), IPAddress.Parse("2001:db8::53")], config.Interface.DnsServers);
        Assert.Equal(["example.org"], config.Interface.DnsSearch);
        Assert.Equal(1380, config.Mtu);
        Assert.Equal((ushort)51000, config.Interface.ListenPort);
        Assert.Equal(0x1234u, config.FwMark);
        Assert.Equal(WgQuickConfig.DefaultTable, config.RoutingTable);
        var peer = Assert.Single(config.Peers);
        Assert.Equal(Convert.FromBase64String(PublicKey), peer.PublicKey);
        Assert.Equal(Convert.FromBase64String(OtherKey), peer.PresharedKey);
        Assert.Equal(new PeerEndpoint("2001:db8::10", 51820), peer.Endpoint);
        Assert.Equal(["0.0.0.0/0", "::/0", "10.1.2.0/24"], peer.AllowedIps.Select(p => p.ToString()));
        Assert.Equal((ushort)25, peer.PersistentKeepalive);
    }

    [Fact]
    public void Parse_Defaults_Mtu1420Table51820MarkEqualsTable()
    {
        using var config = WgQuickConfigParser.Parse(Minimal(), "x.conf");
        Assert.Equal(1420, config.Mtu);
        Assert.Equal(51820, config.RoutingTable);
        Assert.Equal(51820u, config.FwMark);
    }

    [Fact]
    public void Parse_TableOff_NoRoutingTable()
    {
        using var config = WgQuickConfigParser.Parse(Minimal("Table = off"), "x.conf");
        Assert.Null(config.RoutingTable);
    }

    [Theory]
    [InlineData("gw.example.net:51820", "gw.example.net", 51820)]
    [InlineData("198.51.100.10:1", "198.51.100.10", 1)]
    [InlineData("[::1]:65535", "::1", 65535)]
    public void Parse_Endpoint_HostAndPort(string value, string host, int port)
    {
        using var config = WgQuickConfigParser.Parse(Minimal(peerExtra: $"Endpoint = {value}"), "x.conf");
        Assert.Equal(new PeerEndpoint(host, (ushort)port), config.Peers[0].Endpoint);
    }

    [Fact]
    public void Dispose_ZeroesKeys()
    {
        var config = WgQuickConfigParser.Parse(Minimal(peerExtra: $"PresharedKey = {OtherKey}"), "x.conf");
        config.Dispose();
        Assert.All(config.Interface.PrivateKey, b => Assert.Equal(0, b));
        Assert.All(config.Peers[0].PresharedKey!, b => Assert.Equal(0, b));
    }

    [Fact]
    public void ToString_LeavesOutPrivateKey()
    {
        using var config = WgQuickConfigParser.Parse(Minimal(), "x.conf");
        Assert.DoesNotContain(PrivateKey, config.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKey, config.Interface.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PreUp")]
    [InlineData("PostUp")]
    [InlineData("PreDown")]
    [InlineData("postdown")]
    public void Parse_ShellHook_RefusedWithReason(string hook)
    {
        var e = Refused(Minimal($"{hook} = iptables -F"));
        Assert.Equal(3, e.Line);
        Assert.Equal(hook, e.Key);
        Assert.Contains("does not run shell commands", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("/etc/wg/test.conf:3: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SaveConfig_Refused()
    {
        var e = Refused(Minimal("SaveConfig = true"));
        Assert.Equal("SaveConfig", e.Key);
        Assert.Contains("never writes", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Frobnicate = 1", "Frobnicate", "unknown key in [Interface]")]
    [InlineData("Address = 10.0.0.300/24", "Address", "not an IP address")]
    [InlineData("Address = 10.0.0.1/33", "Address", "invalid prefix length")]
    [InlineData("Address = fe80::1%eth0/64", "Address", "not an IP address")]
    [InlineData("DNS = 10.0.0.1, bad_name!", "DNS", "neither an IP address nor a search domain")]
    [InlineData("MTU = 100", "MTU", "not an MTU")]
    [InlineData("MTU = big", "MTU", "not an MTU")]
    [InlineData("ListenPort = 70000", "ListenPort", "not a port number")]
    [InlineData("FwMark = -1", "FwMark", "expected off")]
    [InlineData("Table = main", "Table", "table names are not supported")]
    [InlineData("Table = 0", "Table", "routing table number")]
    public void Parse_BadInterfaceValue_NamesLineAndKey(string line, string key, string reason)
    {
        var e = Refused(Minimal(line));
        Assert.Equal(3, e.Line);
        Assert.Equal(key, e.Key);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Frobnicate = 1", "Frobnicate", "unknown key in [Peer]")]
    [InlineData("Endpoint = 198.51.100.10", "Endpoint", "expected host:port")]
    [InlineData("Endpoint = 2001:db8::1:51820", "Endpoint", "expected host:port")]
    [InlineData("Endpoint = [10.0.0.1]:51820", "Endpoint", "not an IPv6 address")]
    [InlineData("Endpoint = [2001:db8::1]51820", "Endpoint", "expected [IPv6]:port")]
    [InlineData("Endpoint = host:0", "Endpoint", "port 0")]
    [InlineData("Endpoint = host:port", "Endpoint", "not a port number")]
    [InlineData("Endpoint = bad host:1", "Endpoint", "not a host name")]
    [InlineData("AllowedIPs = 10.0.0.0/40", "AllowedIPs", "invalid prefix length")]
    [InlineData("AllowedIPs = nowhere", "AllowedIPs", "not an IP address")]
    [InlineData("PersistentKeepalive = -5", "PersistentKeepalive", "expected off or seconds")]
    [InlineData("PresharedKey = short", "PresharedKey", "not a valid key")]
    public void Parse_BadPeerValue_NamesLineAndKey(string line, string key, string reason)
    {
        var e = Refused(Minimal(peerExtra: line));
        Assert.Equal(7, e.Line);
        Assert.Equal(key, e.Key);
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidPrivateKey_ErrorNeverShowsTheValue()
    {
        var almost = PrivateKey[..^2] + "!=";
        var e = Refused($"[Interface]\nPrivateKey = {almost}\n");
        Assert.Equal("PrivateKey", e.Key);
        Assert.Equal(2, e.Line);
        Assert.DoesNotContain(almost, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PrivateKey[..20], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PrivateKeyOnUnknownLine_ErrorNeverShowsTheValue()
    {
        var e = Refused($"[Interface]\nPrivatKey = {PrivateKey}\n");
        Assert.Equal("PrivatKey", e.Key);
        Assert.DoesNotContain(PrivateKey, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoInterface_Refused()
    {
        var e = Refused($"[Peer]\nPublicKey = {PublicKey}\n");
        Assert.Equal(0, e.Line);
        Assert.Contains("no [Interface]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SecondInterface_Refused()
    {
        var e = Refused(Minimal() + $"\n[Interface]\nPrivateKey = {PrivateKey}\n");
        Assert.Contains("a second [Interface]", e.Message, StringComparison.Ordinal);
        Assert.Equal(8, e.Line);
    }

    [Theory]
    [InlineData("Address = {0}")]              // found by fuzz/run wg-quick-config: the item was quoted
    [InlineData("AllowedIPs = 10.0.0.0/8, {0}")]
    [InlineData("DNS = {0}")]
    [InlineData("Endpoint = [{0}]:51820")]
    [InlineData("Endpoint = {0}:51820")]
    [InlineData("{0}")]                        // a key pasted alone: its 43 characters before '=' were the key name
    [InlineData("[{0}]")]                      // as a section name
    public void Parse_PrivateKeyOnTheWrongLine_ErrorNeverShowsIt(string line)
    {
        var text = $"[Interface]\nPrivateKey = {OtherKey}\n\n[Peer]\nPublicKey = {PublicKey}\n" + string.Format(System.Globalization.CultureInfo.InvariantCulture, line, PrivateKey) + "\n";

        var e = Refused(text);

        Assert.DoesNotContain(PrivateKey[..32], e.Message, StringComparison.Ordinal);
        Assert.Equal(6, e.Line);
    }

    [Fact]
    public void Parse_UnknownSection_Refused()
    {
        var e = Refused(Minimal() + "\n[Peers]\n");
        Assert.Contains("unknown section [Peers]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_LineWithoutEquals_Refused()
    {
        var e = Refused(Minimal("Address 10.0.0.1/24"));
        Assert.Equal(3, e.Line);
        Assert.Contains("expected `Key = Value`", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_KeyBeforeAnySection_Refused()
    {
        var e = Refused("MTU = 1400\n" + Minimal());
        Assert.Equal(1, e.Line);
        Assert.Contains("outside of a section", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PrivateKey")]
    [InlineData("MTU")]
    [InlineData("ListenPort")]
    public void Parse_SingleKeyTwice_Refused(string key)
    {
        var extra = key == "PrivateKey" ? $"PrivateKey = {PrivateKey}" : $"{key} = 1400\n{key} = 1400";
        var e = Refused(Minimal(extra));
        Assert.Contains("set twice", e.Message, StringComparison.Ordinal);
        Assert.Equal(key, e.Key);
        if (key == "PrivateKey")
            Assert.Contains("first on line 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingPrivateKey_Refused()
    {
        var e = Refused($"[Interface]\nAddress = 10.0.0.2/24\n[Peer]\nPublicKey = {PublicKey}\n");
        Assert.Equal("PrivateKey", e.Key);
        Assert.Equal(1, e.Line);
    }

    [Fact]
    public void Parse_PeerWithoutPublicKey_Refused()
    {
        var e = Refused(Minimal() + "\n[Peer]\nAllowedIPs = 10.0.0.0/8\n");
        Assert.Equal("PublicKey", e.Key);
        Assert.Equal(8, e.Line);
    }

    [Fact]
    public void Parse_SamePeerTwice_Refused()
    {
        var e = Refused(Minimal() + $"\n[Peer]\nPublicKey = {PublicKey}\n");
        Assert.Contains("the same peer twice", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PermissionWarning_GroupOrOtherBits_WarnsWithChmod()
    {
        Assert.Null(WgQuickConfigParser.PermissionWarning("/a.conf", UnixFileMode.UserRead | UnixFileMode.UserWrite));
        var warning = WgQuickConfigParser.PermissionWarning("/a.conf", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        Assert.NotNull(warning);
        Assert.Contains("0604", warning, StringComparison.Ordinal);
        Assert.Contains("chmod 600 /a.conf", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_WorldReadableFile_ParsesAndWarns()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pc-client-{Guid.NewGuid():N}.conf");
        File.WriteAllText(path, Minimal());
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            using var config = WgQuickConfigParser.Load(path, out var warnings);
            Assert.Single(config.Peers);
            Assert.Contains("0644", Assert.Single(warnings), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Load_MissingFile_NamesTheFile()
    {
        var e = Assert.Throws<WgQuickConfigException>(() => WgQuickConfigParser.Load("/nonexistent/wg0.conf", out _));
        Assert.StartsWith("/nonexistent/wg0.conf:0: ", e.Message, StringComparison.Ordinal);
    }
}
