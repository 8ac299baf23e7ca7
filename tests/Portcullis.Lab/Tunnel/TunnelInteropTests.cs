using Portcullis.Lab.Harness;
using static Portcullis.Lab.Harness.WireGuardImplementation;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// Interop across the routed lab for every pairing of responder/initiator: ours with wireguard-go both ways,
/// ours with ours, and wireguard-go with wireguard-go as the baseline that proves the harness.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class TunnelInteropTests
{
    private const long HundredMegabytes = 100L * 1024 * 1024;

    public static TheoryData<WireGuardImplementation, WireGuardImplementation> Pairings => new()
    {
        { Ours, WireGuardGo },
        { WireGuardGo, Ours },
        { Ours, Ours },
        { WireGuardGo, WireGuardGo },
    };

    /// <summary>The pairings, and ours with its TUN offloads forced off in both roles against wireguard-go.</summary>
    public static TheoryData<WireGuardImplementation, WireGuardImplementation> TransferPairings
    {
        get
        {
            var data = Pairings;
            data.Add(OursOffloadOff, WireGuardGo);
            data.Add(WireGuardGo, OursOffloadOff);
            return data;
        }
    }

    public static TheoryData<WireGuardImplementation, WireGuardImplementation, bool> PairingsByOuterFamily
    {
        get
        {
            var data = new TheoryData<WireGuardImplementation, WireGuardImplementation, bool>();
            foreach (var row in Pairings)
            {
                data.Add((WireGuardImplementation)row[0], (WireGuardImplementation)row[1], false);
                data.Add((WireGuardImplementation)row[0], (WireGuardImplementation)row[1], true);
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PairingsByOuterFamily))]
    public async Task Ping_InnerIpv4AndIpv6BothDirections_AnswersAndDumpReportsPeer(
        WireGuardImplementation responder, WireGuardImplementation initiator, bool outerIpv6)
    {
        await using var lab = await TunnelLab.StartAsync(responder, initiator, outerIpv6);
        await lab.EnsureHandshakeAsync();

        Assert.True(await lab.Client.PingAsync(TunnelLab.ResponderInner6), $"client → fd99::1\n{lab.Diagnostics()}");
        Assert.True(await lab.Gateway.PingAsync(TunnelLab.InitiatorInner), $"gateway → 10.99.0.2\n{lab.Diagnostics()}");
        Assert.True(await lab.Gateway.PingAsync(TunnelLab.InitiatorInner6), $"gateway → fd99::2\n{lab.Diagnostics()}");

        var clientOuter = outerIpv6 ? $"[{lab.Client.Address6}]" : lab.Client.Address!;
        await AssertPeerAsync(lab.Responder, lab.InitiatorKeys.PublicKey, expectedEndpointHost: clientOuter);
        await AssertPeerAsync(lab.Initiator, lab.ResponderKeys.PublicKey, expectedEndpointHost: null);
    }

    [Theory]
    [MemberData(nameof(TransferPairings))]
    public async Task TcpTransfer_100MegabytesGatewayToClient_Sha256MatchesAtBothEnds(
        WireGuardImplementation responder, WireGuardImplementation initiator)
    {
        await using var lab = await TunnelLab.StartAsync(responder, initiator);
        await lab.EnsureHandshakeAsync();

        var receiver = await TcpTransfer.ListenAsync(lab.Client, TunnelLab.InitiatorInner);
        var sent = await TcpTransfer.SendAsync(lab.Gateway, TunnelLab.InitiatorInner, HundredMegabytes, 0, TimeSpan.FromSeconds(60));
        var received = await TcpTransfer.ReceivedAsync(receiver, TimeSpan.FromSeconds(10));

        Assert.Equal(HundredMegabytes, sent.Bytes);
        Assert.Equal(sent, received);
        var peer = Assert.Single(await lab.Initiator.ShowPeersAsync());
        Assert.True(peer.RxBytes > HundredMegabytes, $"initiator counted {peer.RxBytes} bytes received");
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task Roaming_ClientOuterAddressChangesMidTransfer_TransferCompletes(
        WireGuardImplementation responder, WireGuardImplementation initiator)
    {
        const long bytes = 24L * 1024 * 1024;
        const string newAddress = "203.0.113.23";
        await using var lab = await TunnelLab.StartAsync(responder, initiator);
        await lab.EnsureHandshakeAsync();

        // Paced at 8 MB/s the transfer takes ~3 s; the client moves once the first megabyte has arrived.
        var receiver = await TcpTransfer.ListenAsync(lab.Gateway, TunnelLab.ResponderInner);
        var sending = TcpTransfer.SendAsync(lab.Client, TunnelLab.ResponderInner, bytes, 8 * 1024 * 1024, TimeSpan.FromSeconds(60));
        await TcpTransfer.StartedAsync(receiver, TimeSpan.FromSeconds(20));
        Assert.False(sending.IsCompleted, "the transfer must still be running when the client moves");
        await MoveClientAsync(lab.Client, newAddress);
        if (initiator == WireGuardGo)
        {
            // Debian's wireguard-go keeps sending from the cached (now deleted) source address until a
            // handshake retransmission clears it, ~25 s later; setting the endpoint again clears it at once.
            // What is under test is the responder following the client, which this does not help.
            await lab.Initiator.SetAsync("peer", lab.ResponderKeys.PublicKey, "endpoint", $"{lab.Gateway.Address}:{TunnelLab.ListenPort}");
        }

        var sent = await sending;
        var received = await TcpTransfer.ReceivedAsync(receiver, TimeSpan.FromSeconds(10));
        Assert.Equal(sent, received);
        var peer = Assert.Single(await lab.Responder.ShowPeersAsync());
        Assert.Equal($"{newAddress}:", peer.Endpoint?[..(newAddress.Length + 1)]);
    }

    [Theory]
    [MemberData(nameof(Pairings))]
    public async Task RemovePeer_OnResponder_StopsThatPeersTraffic(
        WireGuardImplementation responder, WireGuardImplementation initiator)
    {
        await using var lab = await TunnelLab.StartAsync(responder, initiator);
        await lab.EnsureHandshakeAsync();
        Assert.True(await lab.Gateway.PingAsync(TunnelLab.InitiatorInner), $"before removal\n{lab.Diagnostics()}");

        await lab.Responder.SetAsync("peer", lab.InitiatorKeys.PublicKey, "remove");

        Assert.Empty(await lab.Responder.ShowPeersAsync());
        Assert.False(await lab.Client.PingAsync(TunnelLab.ResponderInner, count: 2), "client still reaches the gateway");
        Assert.False(await lab.Gateway.PingAsync(TunnelLab.InitiatorInner), "gateway still reaches the removed peer");
    }

    private static async Task AssertPeerAsync(WireGuardDevice device, string publicKey, string? expectedEndpointHost)
    {
        var peer = Assert.Single(await device.ShowPeersAsync());
        Assert.Equal(publicKey, peer.PublicKey);
        Assert.NotNull(peer.LatestHandshake);
        var age = DateTimeOffset.UtcNow - peer.LatestHandshake.Value;
        Assert.True(age < TimeSpan.FromMinutes(1) && age > TimeSpan.FromSeconds(-5), $"{device}: handshake {age} ago");
        Assert.True(peer.RxBytes > 0 && peer.TxBytes > 0, $"{device}: rx {peer.RxBytes} tx {peer.TxBytes}");
        if (expectedEndpointHost is not null)
            Assert.StartsWith(expectedEndpointHost + ":", peer.Endpoint, StringComparison.Ordinal);
    }

    // As a laptop changing networks: a new address, the default route moved to it, the old address gone.
    private static async Task MoveClientAsync(LabHost client, string newAddress)
    {
        var oldAddress = client.Address!;
        await client.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.eth0.promote_secondaries=1");
        await client.RunCheckedAsync("ip", "addr", "add", $"{newAddress}/24", "dev", "eth0");
        await client.RunCheckedAsync("ip", "route", "replace", "default", "via", LabSegment.Home.RouterAddress, "src", newAddress);
        await client.RunCheckedAsync("ip", "addr", "del", $"{oldAddress}/24", "dev", "eth0");
    }
}
