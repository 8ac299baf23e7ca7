using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// A point-to-point tunnel across the lab's routed internet: the responder on the gateway segment
/// (198.51.100.10, listening on 51820), the initiator on the home LAN (203.0.113.21) with the responder as its
/// endpoint, and a remote host (192.0.2.100) for routing checks. Inner addresses 10.99.0.1/2 and fd99::1/2.
/// </summary>
internal sealed class TunnelLab : IAsyncDisposable
{
    public const int ListenPort = 51820;
    public const string ResponderInner = "10.99.0.1";
    public const string InitiatorInner = "10.99.0.2";
    public const string ResponderInner6 = "fd99::1";
    public const string InitiatorInner6 = "fd99::2";

    private TunnelLab(LabNetwork network, LabHost gateway, LabHost client, LabHost remote)
    {
        Network = network;
        Gateway = gateway;
        Client = client;
        Remote = remote;
    }

    public LabNetwork Network { get; }

    public LabHost Gateway { get; }

    public LabHost Client { get; }

    public LabHost Remote { get; }

    public WireGuardDevice Responder { get; private set; } = null!;

    public WireGuardDevice Initiator { get; private set; } = null!;

    public WireGuardKeys ResponderKeys { get; private set; } = null!;

    public WireGuardKeys InitiatorKeys { get; private set; } = null!;

    /// <summary>Builds the lab and both devices, configured but not yet handshaken (the first packet does that).</summary>
    public static async Task<TunnelLab> StartAsync(
        WireGuardImplementation responder, WireGuardImplementation initiator, bool outerIpv6 = false)
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new TunnelLab(
                network,
                await network.AddHostAsync("gateway", LabSegment.Gateway, "198.51.100.10"),
                await network.AddHostAsync("client", LabSegment.Home, "203.0.113.21"),
                await network.AddHostAsync("remote", LabSegment.Remote, "192.0.2.100"));
            await lab.StartDevicesAsync(responder, initiator, outerIpv6);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits (up to 10 s) for the first ping from the initiator to the responder: the handshake is done.</summary>
    public async Task EnsureHandshakeAsync()
    {
        if (!await Client.PingUntilAsync(ResponderInner, TimeSpan.FromSeconds(10)))
            throw new Xunit.Sdk.XunitException($"no handshake: {Initiator} never reached {ResponderInner}\n{Diagnostics()}");
    }

    public string Diagnostics() => Network.Diagnostics();

    public ValueTask DisposeAsync() => Network.DisposeAsync();

    private async Task StartDevicesAsync(WireGuardImplementation responder, WireGuardImplementation initiator, bool outerIpv6)
    {
        ResponderKeys = await WgTools.GenerateKeysAsync();
        InitiatorKeys = await WgTools.GenerateKeysAsync();
        Responder = await WireGuardDevice.StartAsync(Gateway, responder);
        Initiator = await WireGuardDevice.StartAsync(Client, initiator);

        await Responder.SetConfAsync($"""
            [Interface]
            PrivateKey = {ResponderKeys.PrivateKey}
            ListenPort = {ListenPort}

            [Peer]
            PublicKey = {InitiatorKeys.PublicKey}
            AllowedIPs = {InitiatorInner}/32, {InitiatorInner6}/128
            """);
        var endpoint = outerIpv6 ? $"[{Gateway.Address6}]:{ListenPort}" : $"{Gateway.Address}:{ListenPort}";
        await Initiator.SetConfAsync($"""
            [Interface]
            PrivateKey = {InitiatorKeys.PrivateKey}

            [Peer]
            PublicKey = {ResponderKeys.PublicKey}
            Endpoint = {endpoint}
            AllowedIPs = 10.99.0.0/16, fd99::/64
            """);
        await Responder.UpAsync($"{ResponderInner}/16", $"{ResponderInner6}/64");
        await Initiator.UpAsync($"{InitiatorInner}/16", $"{InitiatorInner6}/64");
    }
}
