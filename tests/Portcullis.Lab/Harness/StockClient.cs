using System.Globalization;

namespace Portcullis.Lab.Harness;

/// <summary>
/// A stock client: wireguard-go routed as wg-quick does a full tunnel, by hand (AllowedIPs 0/0, fwmark on the
/// encrypted packets, the two rules).
/// </summary>
internal static class StockClient
{
    public const int FwMark = 51820;

    /// <summary>Starts the tunnel on <paramref name="host"/> and returns once <paramref name="gatewayTunnelAddress"/> answers a ping.</summary>
    public static async Task<WireGuardDevice> StartAsync(LabHost host, string privateKey, string gatewayPublicKey,
        string endpoint, string address, string gatewayTunnelAddress, TimeSpan timeout, Func<string> diagnostics)
    {
        var device = await WireGuardDevice.StartAsync(host, WireGuardImplementation.WireGuardGo);
        await device.SetConfAsync($"""
            [Interface]
            PrivateKey = {privateKey}
            FwMark = {FwMark}

            [Peer]
            PublicKey = {gatewayPublicKey}
            Endpoint = {endpoint}
            AllowedIPs = 0.0.0.0/0
            PersistentKeepalive = 3
            """);
        await device.UpAsync(address);
        var mark = FwMark.ToString(CultureInfo.InvariantCulture);
        await host.RunCheckedAsync("ip", "route", "add", "0.0.0.0/0", "dev", device.Interface, "table", mark);
        await host.RunCheckedAsync("ip", "rule", "add", "not", "fwmark", mark, "table", mark);
        await host.RunCheckedAsync("ip", "rule", "add", "table", "main", "suppress_prefixlength", "0");
        await host.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.conf.all.src_valid_mark=1");
        if (!await host.PingUntilAsync(gatewayTunnelAddress, timeout))
            throw new Xunit.Sdk.XunitException($"{host} never reached the gateway through the tunnel\n{diagnostics()}");
        return device;
    }
}
