using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;
using static Portcullis.WireGuard.Tests.Uapi.UapiTestKeys;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>
/// The real thing: stock `wg` (wireguard-tools, in /var/run/wireguard, no kernel module needed) against our
/// server and an in-memory device. Each test uses its own interface name and disposes the server (which
/// unlinks the socket) in a finally.
/// </summary>
[Collection(nameof(UapiWgInteropTests))] // wg scans the shared /var/run/wireguard; keep these tests in one line
public sealed class UapiWgInteropTests
{
    private static readonly string Bob = Base64(BobPublicHex);
    private static readonly string Carol = Base64(CarolPublicHex);

    [Fact]
    public async Task WgSet_FullPeer_ReachesDeviceAndShowconfPrintsIt()
    {
        using var wg = new WgInterface();
        using var privateKey = new SecretFile(Base64(AlicePrivateHex) + "\n");

        await WgTool.RunOkAsync("set", wg.Name, "private-key", privateKey.Path, "listen-port", "51820", "peer", Bob,
            "allowed-ips", "10.0.0.2/32,fd00::2/128", "endpoint", "192.0.2.1:51820", "persistent-keepalive", "25");

        var state = wg.Device.GetState();
        Assert.Equal(Bytes(AlicePrivateHex), state.PrivateKey);
        Assert.Equal((ushort)51820, state.ListenPort);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(Bytes(BobPublicHex), peer.PublicKey);
        Assert.Equal(UdpEndpoint.FromIPv4([192, 0, 2, 1], 51820), peer.Endpoint);
        Assert.Equal((ushort)25, peer.PersistentKeepaliveInterval);
        Assert.Equal([IPNetwork.Parse("10.0.0.2/32"), IPNetwork.Parse("fd00::2/128")], peer.AllowedIps);

        var conf = await WgTool.RunOkAsync("showconf", wg.Name);
        Assert.Equal(
            $"[Interface]\nListenPort = 51820\nPrivateKey = {Base64(AlicePrivateHex)}\n\n" +
            $"[Peer]\nPublicKey = {Bob}\nAllowedIPs = 10.0.0.2/32, fd00::2/128\nEndpoint = 192.0.2.1:51820\nPersistentKeepalive = 25\n",
            conf);
    }

    [Fact]
    public async Task WgShowPublicKey_IsDerivedFromPrivateKey()
    {
        using var wg = new WgInterface();
        using var privateKey = new SecretFile(Base64(AlicePrivateHex) + "\n");
        await WgTool.RunOkAsync("set", wg.Name, "private-key", privateKey.Path);

        var publicKey = await WgTool.RunOkAsync("show", wg.Name, "public-key");

        Assert.Equal(Base64(AlicePublicHex) + "\n", publicKey); // RFC 7748 §6.1
    }

    [Fact]
    public async Task WgShowDump_SeededPeer_ReportsCountersHandshakeAndIPv6Endpoint()
    {
        using var wg = new WgInterface();
        wg.Device.AddPeer(new UapiPeerState(Bytes(BobPublicHex), Bytes(PresharedHex),
            UdpEndpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::7]:4500")), DateTimeOffset.FromUnixTimeSeconds(1_700_000_123),
            TxBytes: 4242, RxBytes: 9001, 15, [IPNetwork.Parse("10.0.0.0/24")]));
        using (var client = await RawUapiClient.ConnectAsync(wg.Server.SocketPath))
            Assert.Equal(0, await client.RequestErrnoAsync("set=1\nlisten_port=3333\nfwmark=51820\n\n"));

        var dump = (await WgTool.RunOkAsync("show", wg.Name, "dump")).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(2, dump.Length);
        Assert.Equal(["(none)", "(none)", "3333", "0xca6c"], dump[0].Split('\t'));
        Assert.Equal(
            [Bob, Base64(PresharedHex), "[2001:db8::7]:4500", "10.0.0.0/24", "1700000123", "9001", "4242", "15"],
            dump[1].Split('\t'));
    }

    [Fact]
    public async Task WgSetPeerRemove_RemovesOnlyThatPeer()
    {
        using var wg = new WgInterface();
        await WgTool.RunOkAsync("set", wg.Name, "peer", Bob, "allowed-ips", "10.0.0.2/32", "peer", Carol, "allowed-ips", "10.0.0.3/32");
        Assert.Equal(2, wg.Device.GetState().Peers.Count);

        await WgTool.RunOkAsync("set", wg.Name, "peer", Bob, "remove");

        var peer = Assert.Single(wg.Device.GetState().Peers);
        Assert.Equal(Bytes(CarolPublicHex), peer.PublicKey);
        Assert.Equal(Carol + "\n", await WgTool.RunOkAsync("show", wg.Name, "peers"));
    }

    [Fact]
    public async Task WgSetconf_ReplacesPeersAndAllowedIps()
    {
        using var wg = new WgInterface();
        await WgTool.RunOkAsync("set", wg.Name, "listen-port", "1111", "peer", Bob, "allowed-ips", "10.0.0.2/32", "peer", Carol, "allowed-ips", "10.0.0.3/32");
        using var conf = new SecretFile(
            $"[Interface]\nPrivateKey = {Base64(BobPrivateHex)}\nListenPort = 2222\n\n[Peer]\nPublicKey = {Carol}\nAllowedIPs = 10.9.0.0/16\n");

        await WgTool.RunOkAsync("setconf", wg.Name, conf.Path);

        var state = wg.Device.GetState();
        Assert.True(wg.Device.LastRequest!.ReplacePeers);
        Assert.Equal((ushort)2222, state.ListenPort);
        var peer = Assert.Single(state.Peers);
        Assert.Equal(Bytes(CarolPublicHex), peer.PublicKey);
        Assert.Equal([IPNetwork.Parse("10.9.0.0/16")], peer.AllowedIps);
        Assert.Equal(Base64(BobPublicHex) + "\n", await WgTool.RunOkAsync("show", wg.Name, "public-key"));
    }

    [Fact]
    public async Task WgSetPresharedKey_SetThenDevNull_Clears()
    {
        using var wg = new WgInterface();
        using var psk = new SecretFile(Base64(PresharedHex) + "\n");
        await WgTool.RunOkAsync("set", wg.Name, "peer", Bob, "preshared-key", psk.Path);
        Assert.Contains($"PresharedKey = {Base64(PresharedHex)}\n", await WgTool.RunOkAsync("showconf", wg.Name), StringComparison.Ordinal);

        await WgTool.RunOkAsync("set", wg.Name, "peer", Bob, "preshared-key", "/dev/null");

        Assert.Null(Assert.Single(wg.Device.GetState().Peers).PresharedKey);
        Assert.DoesNotContain("PresharedKey", await WgTool.RunOkAsync("showconf", wg.Name), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WgSet_DeviceRefusesPort_WgFailsAndNothingChanges()
    {
        using var wg = new WgInterface(new InMemoryUapiDevice { RefusedPort = 4000 });

        var (exitCode, _, stderr) = await WgTool.RunAsync("set", wg.Name, "listen-port", "4000", "peer", Bob);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Address already in use", stderr, StringComparison.Ordinal);
        Assert.Empty(wg.Device.GetState().Peers);
    }

    [Fact]
    public async Task WgShow_AfterGarbageHalfAndOversizedLines_StillWorks()
    {
        using var wg = new WgInterface();
        await WgTool.RunOkAsync("set", wg.Name, "listen-port", "5555");

        using (var garbage = await RawUapiClient.ConnectAsync(wg.Server.SocketPath))
        {
            await garbage.SendAsync("\u0001\u0002 hello\n");
            Assert.True(RawUapiClient.ErrnoOf((await garbage.ReadReplyAsync())!) < 0);
        }
        using (var half = await RawUapiClient.ConnectAsync(wg.Server.SocketPath))
            await half.SendAsync("set=1\nlisten_port=6666");
        using (var oversized = await RawUapiClient.ConnectAsync(wg.Server.SocketPath))
        {
            await oversized.SendAsync("set=1\nlisten_port=" + new string('1', 10_000) + "\n\n");
            Assert.Equal(UapiErrno.Protocol, RawUapiClient.ErrnoOf((await oversized.ReadReplyAsync())!));
        }

        Assert.Contains("listening port: 5555", await WgTool.RunOkAsync("show", wg.Name), StringComparison.Ordinal);
        Assert.Contains(wg.Name, (await WgTool.RunOkAsync("show", "interfaces")).Split(' ', '\n'));
    }

    [Fact]
    public async Task Dispose_SocketGone_WgNoLongerFindsInterface()
    {
        var wg = new WgInterface();
        var name = wg.Name;
        wg.Dispose();

        var (exitCode, _, _) = await WgTool.RunAsync("show", name);

        Assert.NotEqual(0, exitCode);
        Assert.False(File.Exists(UapiSocket.PathFor(name)));
    }

    /// <summary>Our server on /var/run/wireguard/pctXXXXXXXX.sock, where `wg` looks.</summary>
    private sealed class WgInterface : IDisposable
    {
        public WgInterface(InMemoryUapiDevice? device = null)
        {
            Name = "pct" + Random.Shared.Next(0x10000000, int.MaxValue).ToString("x8");
            Device = device ?? new InMemoryUapiDevice();
            Server = UapiServer.Start(Name, Device, new CapturingLogger());
        }

        public string Name { get; }

        public InMemoryUapiDevice Device { get; }

        public UapiServer Server { get; }

        public void Dispose() => Server.Dispose();
    }
}
