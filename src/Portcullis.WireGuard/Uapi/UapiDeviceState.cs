using System.Net;
using Portcullis.Core.Io;

namespace Portcullis.WireGuard.Uapi;

/// <summary>A peer as <c>get=1</c> reports it. Null or all-zero <paramref name="PresharedKey"/> = none.</summary>
public sealed record UapiPeerState(
    byte[] PublicKey,
    byte[]? PresharedKey,
    UdpEndpoint? Endpoint,
    DateTimeOffset? LastHandshake,
    ulong TxBytes,
    ulong RxBytes,
    ushort PersistentKeepaliveInterval,
    IReadOnlyList<IPNetwork> AllowedIps);

/// <summary>The device as <c>get=1</c> reports it. Null or all-zero <paramref name="PrivateKey"/> = none.</summary>
public sealed record UapiDeviceState(byte[]? PrivateKey, ushort ListenPort, uint Fwmark, IReadOnlyList<UapiPeerState> Peers)
{
    /// <summary>Zeroes the private key and every preshared key this snapshot holds (its copies, see <see cref="IUapiDevice.GetState"/>).</summary>
    public void WipeKeys()
    {
        if (PrivateKey is not null)
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(PrivateKey);
        foreach (var peer in Peers)
        {
            if (peer.PresharedKey is not null)
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(peer.PresharedKey);
        }
    }
}
