using System.Net;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>A stored peer's allowed-ips in the device: its /32, and with IPv6 in the tunnel its twin's /128.</summary>
public sealed class DevicePeersIpv6Tests
{
    private static readonly StoredPeer Peer = new()
    {
        Id = "p1",
        Name = "a",
        PublicKey = Convert.ToBase64String(new byte[32]),
        TunnelAddress = IPAddress.Parse("10.99.1.2"),
        CreatedUtc = DateTimeOffset.UnixEpoch,
    };

    [Fact]
    public void Change_NoIpv6_ItsSlash32Only()
    {
        var change = DevicePeers.Change(Peer, null);

        Assert.True(change.ReplaceAllowedIps);
        Assert.Equal([IPNetwork.Parse("10.99.1.2/32")], change.AddedAllowedIps);
    }

    [Fact]
    public void Change_Ipv6_AlsoItsTwinsSlash128()
    {
        var ipv6 = new TunnelIpv6(IPNetwork.Parse("fd99::/64"), IPNetwork.Parse("10.99.0.0/16"), Routed: false);

        var change = DevicePeers.Change(Peer, ipv6);

        Assert.Equal([IPNetwork.Parse("10.99.1.2/32"), IPNetwork.Parse("fd99::102/128")], change.AddedAllowedIps);
    }
}
