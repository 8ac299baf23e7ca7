using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The static forwards part alone: rules hold their keys live or dark; live entries are per peer.
public sealed class StaticForwardSetTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly StaticForwardSet _set = new();

    private static StaticForwardRule Rule(ushort port, string peer) => new(Public, MappingProtocol.Tcp, port, peer, 80);

    [Fact]
    public void SetRule_Dark_KeyOwnedByItsPeerButNotLive()
    {
        _set.SetRule(Rule(8080, "p2"));

        Assert.Equal("p2", _set.OwnerOf(new PortKey(Public, MappingProtocol.Tcp, 8080)));
        Assert.Null(_set.OwnerOf(new PortKey(Public, MappingProtocol.Udp, 8080)));
        Assert.Empty(_set.Live);
        Assert.Null(_set.LiveOf("p2"));
    }

    [Fact]
    public void SetLive_ThenLiveOf_OnlyThatPeersEntries()
    {
        var tunnel = IPAddress.Parse("10.99.0.2");
        _set.SetRule(Rule(8080, "p2"));
        _set.SetRule(Rule(8081, "p3"));
        _set.SetLive(StaticForwardSet.EntryOf(Rule(8080, "p2"), tunnel));
        _set.SetLive(StaticForwardSet.EntryOf(Rule(8081, "p3"), IPAddress.Parse("10.99.0.3")));

        var entry = Assert.Single(_set.LiveOf("p2")!);
        Assert.Equal((Public, MappingProtocol.Tcp, (ushort)8080), entry.Key);
        Assert.Equal(tunnel, entry.TunnelAddress);
        Assert.Null(entry.Timeout);
        _set.RemoveLive(PortKey.Of(entry));
        Assert.Null(_set.LiveOf("p2"));
        Assert.Equal("p2", _set.OwnerOf(PortKey.Of(entry)));
    }

    [Theory]
    [InlineData("fe80::1", 8080, 80, "p2")]
    [InlineData("::1", 8080, 80, "p2")]
    [InlineData("ff02::1", 8080, 80, "p2")]
    [InlineData("198.51.100.10", 0, 80, "p2")]
    [InlineData("198.51.100.10", 8080, 0, "p2")]
    [InlineData("198.51.100.10", 8080, 80, "p2\"; flush ruleset")]
    public void Check_Invalid_ArgumentException(string address, int external, int internalPort, string peer) =>
        Assert.Throws<ArgumentException>(() =>
            StaticForwardSet.Check(new StaticForwardRule(IPAddress.Parse(address), MappingProtocol.Tcp, (ushort)external, peer, (ushort)internalPort)));

    [Fact]
    public void Check_MappedIPv4_Normalized()
    {
        var rule = StaticForwardSet.Check(new StaticForwardRule(Public.MapToIPv6(), MappingProtocol.Udp, 9000, "p2", 9000));

        Assert.Equal(Public, rule.PublicAddress);
    }
}
