using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;
using static Portcullis.WireGuard.Tests.Uapi.UapiTestKeys;

namespace Portcullis.WireGuard.Tests.Uapi;

public sealed class UapiSetParserTests
{
    [Fact]
    public void Parse_WhatWgSetSends_FillsEveryField()
    {
        // What `wg set IF private-key F listen-port 51820 fwmark 0x20 peer PUB preshared-key F endpoint ...
        // persistent-keepalive 25 allowed-ips 10.0.0.2/32,fd00::2/128` writes to the socket.
        var request = UapiSetParser.Parse(
            $"private_key={AlicePrivateHex}\nlisten_port=51820\nfwmark=32\n" +
            $"public_key={BobPublicHex}\npreshared_key={PresharedHex}\nendpoint=192.0.2.1:51820\n" +
            "persistent_keepalive_interval=25\nreplace_allowed_ips=true\nallowed_ip=10.0.0.2/32\nallowed_ip=fd00::2/128\n\n");

        Assert.Equal(Bytes(AlicePrivateHex), request.PrivateKey);
        Assert.Equal((ushort)51820, request.ListenPort);
        Assert.Equal(32u, request.Fwmark);
        Assert.False(request.ReplacePeers);
        var peer = Assert.Single(request.Peers);
        Assert.Equal(Bytes(BobPublicHex), peer.PublicKey);
        Assert.Equal(Bytes(PresharedHex), peer.PresharedKey);
        Assert.Equal(UdpEndpoint.FromIPv4([192, 0, 2, 1], 51820), peer.Endpoint);
        Assert.Equal((ushort)25, peer.PersistentKeepaliveInterval);
        Assert.True(peer.ReplaceAllowedIps);
        Assert.Equal([IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128")], peer.AddedAllowedIps);
        Assert.Empty(peer.RemovedAllowedIps);
        Assert.False(peer.Remove);
        Assert.False(peer.UpdateOnly);
    }

    [Fact]
    public void Parse_DeviceOnly_LeavesUnsentFieldsNull()
    {
        var request = UapiSetParser.Parse("listen_port=0\nreplace_peers=true\n");

        Assert.Null(request.PrivateKey);
        Assert.Equal((ushort)0, request.ListenPort);
        Assert.Null(request.Fwmark);
        Assert.True(request.ReplacePeers);
        Assert.Empty(request.Peers);
    }

    [Fact]
    public void Parse_PeerWithOnlyKey_ChangesNothingElse()
    {
        var peer = Assert.Single(UapiSetParser.Parse($"public_key={BobPublicHex}\n").Peers);

        Assert.Null(peer.PresharedKey);
        Assert.Null(peer.Endpoint);
        Assert.Null(peer.PersistentKeepaliveInterval);
        Assert.False(peer.ReplaceAllowedIps);
        Assert.Empty(peer.AddedAllowedIps);
    }

    [Fact]
    public void Parse_UppercaseHexAndZeroKeys_AreAccepted()
    {
        var zero = new string('0', 64);
        var request = UapiSetParser.Parse($"private_key={zero}\npublic_key={BobPublicHex.ToUpperInvariant()}\npreshared_key={zero}\n");

        Assert.Equal(new byte[32], request.PrivateKey);
        Assert.Equal(Bytes(BobPublicHex), request.Peers[0].PublicKey);
        Assert.Equal(new byte[32], request.Peers[0].PresharedKey);
    }

    [Fact]
    public void Parse_SeveralBlocks_KeepsRequestOrder()
    {
        var request = UapiSetParser.Parse(
            $"public_key={BobPublicHex}\nremove=true\npublic_key={CarolPublicHex}\nupdate_only=true\nendpoint=[2001:db8::1]:443\n" +
            $"public_key={BobPublicHex}\nallowed_ip=10.1.0.0/16\nprotocol_version=1\n");

        Assert.Equal(3, request.Peers.Count);
        Assert.True(request.Peers[0].Remove);
        Assert.Equal(Bytes(CarolPublicHex), request.Peers[1].PublicKey);
        Assert.True(request.Peers[1].UpdateOnly);
        Assert.Equal(UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:443")), request.Peers[1].Endpoint);
        Assert.False(request.Peers[2].Remove);
        Assert.Equal([IPNetwork.Parse("10.1.0.0/16")], request.Peers[2].AddedAllowedIps);
    }

    [Fact]
    public void Parse_RemoveTrue_DropsTheRestOfTheBlock()
    {
        var peer = Assert.Single(UapiSetParser.Parse(
            $"public_key={BobPublicHex}\nendpoint=192.0.2.1:1\nremove=true\nallowed_ip=10.0.0.0/8\npersistent_keepalive_interval=5\n").Peers);

        Assert.True(peer.Remove);
        Assert.Null(peer.Endpoint);
        Assert.Null(peer.PersistentKeepaliveInterval);
        Assert.Empty(peer.AddedAllowedIps);
    }

    [Fact]
    public void Parse_ReplaceAllowedIpsAfterPrefixes_DropsThoseBeforeIt()
    {
        var peer = Assert.Single(UapiSetParser.Parse(
            $"public_key={BobPublicHex}\nallowed_ip=10.0.0.1/32\nallowed_ip=-10.9.0.0/16\nreplace_allowed_ips=true\nallowed_ip=10.0.0.2/32\n").Peers);

        Assert.True(peer.ReplaceAllowedIps);
        Assert.Equal([IPNetwork.Parse("10.0.0.2/32")], peer.AddedAllowedIps);
        Assert.Empty(peer.RemovedAllowedIps);
    }

    [Fact]
    public void Parse_AddThenRemoveThenAdd_ListsStayDisjointAndLastWins()
    {
        var peer = Assert.Single(UapiSetParser.Parse(
            $"public_key={BobPublicHex}\nallowed_ip=10.0.0.1/32\nallowed_ip=-10.0.0.1/32\nallowed_ip=-fd00::/64\n" +
            "allowed_ip=10.0.0.3/32\nallowed_ip=fd00::/64\n").Peers);

        Assert.Equal([IPNetwork.Parse("10.0.0.3/32"), IPNetwork.Parse("fd00::/64")], peer.AddedAllowedIps);
        Assert.Equal([IPNetwork.Parse("10.0.0.1/32")], peer.RemovedAllowedIps);
    }

    [Fact]
    public void Parse_PrefixWithHostBits_IsMasked()
    {
        var peer = Assert.Single(UapiSetParser.Parse($"public_key={BobPublicHex}\nallowed_ip=10.1.2.3/16\nallowed_ip=fd00::1:2/100\n").Peers);

        Assert.Equal([IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("fd00::/100")], peer.AddedAllowedIps);
    }

    [Fact]
    public void Parse_TextAfterTheBlankLine_IsProtocolError()
    {
        var e = Assert.Throws<UapiException>(() => UapiSetParser.Parse("listen_port=1\n\nlisten_port=2\n"));

        Assert.Equal(UapiErrno.Protocol, e.Errno);
    }

    [Fact]
    public void AddLine_AfterFirstError_KeepsFirstErrnoAndRefusesBuild()
    {
        var parser = new UapiSetParser();
        parser.AddLine("listen_port=1");
        parser.AddLine("garbage");
        parser.AddLine("listen_port=x");

        Assert.Equal(UapiErrno.Protocol, parser.Errno);
        Assert.Throws<InvalidOperationException>(() => parser.Build());
    }

    [Fact]
    public void Error_ForBadKeyValue_NamesKeyButNotValue()
    {
        var parser = new UapiSetParser();
        parser.AddLine("private_key=" + AlicePrivateHex[..63] + "x");

        Assert.Equal(UapiErrno.Invalid, parser.Errno);
        Assert.Contains("private_key", parser.Error, StringComparison.Ordinal);
        Assert.DoesNotContain(AlicePrivateHex[..20], parser.Error, StringComparison.Ordinal);
    }

    public static TheoryData<string, int> BadBodies => new()
    {
        // Not key=value at all → -EPROTO, as wireguard-go.
        { "garbage\n", UapiErrno.Protocol },
        { $"public_key={BobPublicHex}\njunk\n", UapiErrno.Protocol },
        // Device section.
        { "private_key=zz\n", UapiErrno.Invalid },
        { $"private_key={AlicePrivateHex[..63]}\n", UapiErrno.Invalid },
        { $"private_key={AlicePrivateHex}00\n", UapiErrno.Invalid },
        { $"private_key={AlicePrivateHex[..62]}g0\n", UapiErrno.Invalid },
        { $"private_key= {AlicePrivateHex[..63]}\n", UapiErrno.Invalid },
        { "listen_port=65536\n", UapiErrno.Invalid },
        { "listen_port=-1\n", UapiErrno.Invalid },
        { "listen_port=+1\n", UapiErrno.Invalid },
        { "listen_port= 1\n", UapiErrno.Invalid },
        { "listen_port=1\r\n", UapiErrno.Invalid },
        { "listen_port=\n", UapiErrno.Invalid },
        { "fwmark=4294967296\n", UapiErrno.Invalid },
        { "fwmark=0x10\n", UapiErrno.Invalid },
        { "replace_peers=false\n", UapiErrno.Invalid },
        { "foo=1\n", UapiErrno.Invalid },
        { "=1\n", UapiErrno.Invalid },
        { "get=1\n", UapiErrno.Invalid },
        // Peer keys before any public_key.
        { "endpoint=192.0.2.1:1\n", UapiErrno.Invalid },
        { "allowed_ip=10.0.0.0/8\n", UapiErrno.Invalid },
        { "protocol_version=1\n", UapiErrno.Invalid },
        { "remove=true\n", UapiErrno.Invalid },
        // Peer section.
        { "public_key=\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex[..60]}\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nprivate_key={AlicePrivateHex}\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nlisten_port=1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nreplace_peers=true\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nremove=false\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nupdate_only=yes\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nreplace_allowed_ips=1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\npreshared_key=00\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\npersistent_keepalive_interval=65536\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\npersistent_keepalive_interval=abc\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nprotocol_version=2\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nflavour=vanilla\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=192.0.2.1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=192.0.2.1:65536\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=2001:db8::1:51820\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=[2001:db8::1]51820\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=[192.0.2.1]:1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=[fe80::1%eth0]:1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=example.com:51820\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=192.0.2:1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=256.0.2.1:1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nendpoint=0x7f.1:1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=10.0.0.0\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=10.0.0.0/33\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=::/129\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=10.0.0.0/\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=/24\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=10.0.0.0/-1\n", UapiErrno.Invalid },
        { $"public_key={BobPublicHex}\nallowed_ip=--10.0.0.0/8\n", UapiErrno.Invalid },
        // A bad line after good ones still spoils the whole request.
        { $"listen_port=1\npublic_key={BobPublicHex}\nallowed_ip=10.0.0.0/8\npublic_key={CarolPublicHex}\nendpoint=x\n", UapiErrno.Invalid },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public void Parse_BadLine_ThrowsWithErrno(string body, int errno)
    {
        var e = Assert.Throws<UapiException>(() => UapiSetParser.Parse(body));

        Assert.Equal(errno, e.Errno);
    }
}
