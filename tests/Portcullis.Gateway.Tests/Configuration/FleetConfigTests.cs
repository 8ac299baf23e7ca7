using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Store;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FleetConfigTests
{
    private const string File = "/etc/portcullis/gw.toml";

    [Fact]
    public void Parse_DesignFleetExample_NameRegionUrlAndPasswordFileRelativeToTheConfig()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey(), """
            [gateway]
            name   = "ams-1"
            region = "eu-west"

            [store]
            url = "postgresql://portcullis@db.example:5432/portcullis"
            password_file = "db.password"
            """), File);

        Assert.Equal(("ams-1", "eu-west", true), (config.Gateway.Name, config.Gateway.Region, config.Gateway.Presence));
        Assert.Equal("postgresql://portcullis@db.example:5432/portcullis", config.Store.Url);
        Assert.Equal("/etc/portcullis/db.password", config.Store.PasswordFile);
    }

    [Fact]
    public void Parse_NoGatewaySection_IsOneBoxOnSqlite()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey()), File);

        Assert.Null(config.Gateway.Name);
        Assert.Null(config.Store.Url);
        Assert.Equal("/var/lib/portcullis/portcullis.db", config.Store.Path);
    }

    [Theory]
    [InlineData("[store]\nurl = \"postgresql://db/fleet\"", ":8: [store] url: a PostgreSQL store is shared by a fleet")]
    [InlineData("[gateway]\nname = \"ams 1\"", ":9: [gateway] name: expected 1-63 letters")]
    [InlineData("[gateway]\nname = \"a\"\n[store]\npath = \"x.db\"\nurl = \"postgresql://db/fleet\"", ":12: [store] url: give either path")]
    [InlineData("[gateway]\nname = \"a\"\n[store]\nurl = \"postgresql://me:Hunter2xyz@db/fleet\"", ":11: [store] url: holds a password")]
    [InlineData("[store]\npassword_file = \"pw\"", ":9: [store] password_file: only a PostgreSQL store")]
    [InlineData("[gateway]\nname = \"a\"\npresence = \"no\"", ":10: [gateway] presence: expected true or false")]
    [InlineData("[gateway]\nname = \"a\"\nowner = \"me\"", ":10: [gateway] owner: unknown key")]
    public void Parse_BadFleetKeys_NameTheLineAndKey(string more, string expected)
    {
        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(Minimal(NewKey(), more), File));

        Assert.Contains(File + expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Hunter2xyz", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfiguredPeers_InAFleet_ForwardsWithoutADedicatedAddressAreFleetWide()
    {
        var config = GatewayConfigLoader.Parse(Minimal(NewKey(), $"""
            [gateway]
            name = "a"
            [store]
            url = "postgresql://db/fleet"
            [[peer]]
            name = "alice"
            public_key = "{NewKey()}"
            [[peer.forward]]
            protocol = "tcp"
            external_port = 30000
            [[peer]]
            name = "bob"
            public_key = "{NewKey()}"
            dedicated_address = "198.51.100.11"
            [[peer.forward]]
            protocol = "udp"
            external_port = 30001
            """), File);

        var peers = ConfiguredPeers.From(config);

        Assert.Equal(StoredForward.AnyGateway, Assert.Single(peers[0].Forwards).PublicAddress);
        Assert.Equal(System.Net.IPAddress.Parse("198.51.100.11"), Assert.Single(peers[1].Forwards).PublicAddress);
    }
}
