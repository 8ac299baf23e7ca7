using Portcullis.WireGuard.Uapi;

namespace Portcullis.Client.Status;

/// <summary>One peer as the device reports it over UAPI <c>get=1</c> (keys are not kept).</summary>
public sealed record PeerStatus(string PublicKeyHex, string? Endpoint, DateTimeOffset? LastHandshake, ulong RxBytes, ulong TxBytes)
{
    /// <summary>The peers of a device's UAPI answer (<see cref="UapiClient.TryGet"/>).</summary>
    public static IReadOnlyList<PeerStatus> From(UapiDeviceState device)
    {
        ArgumentNullException.ThrowIfNull(device);
        return [.. device.Peers.Select(p => new PeerStatus(
            Convert.ToHexStringLower(p.PublicKey), p.Endpoint?.ToString(), p.LastHandshake, p.RxBytes, p.TxBytes))];
    }
}
