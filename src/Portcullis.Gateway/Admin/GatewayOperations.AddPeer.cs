using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Portcullis.Core.Net;
using Portcullis.Gateway.Store;
using Portcullis.WireGuard.Crypto;

namespace Portcullis.Gateway.Admin;

// Adding a peer:
//  1. validate the request (name, key, addresses) — nothing reaches the store otherwise
//  2. no key given: generate an X25519 pair (OpenSSL); the private key lives only in the returned config text
//  3. store: the peer with its tunnel address (allocated in the same transaction when none was asked for), then
//     its dedicated address; a clash on the latter takes the peer out again, so the call is all or nothing
//  4. directory, device: the peer can connect from now on
public sealed partial class GatewayOperations
{
    private const int KeySize = 32;
    private const int MaxNameLength = 64;

    public async Task<AddedPeer> AddPeerAsync(PeerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ThrowIfStoreAway();
        CheckName(request.Name);
        var tunnelAddress = request.TunnelAddress is { } asked ? CheckTunnelAddress(asked) : null;
        var dedicated = request.DedicatedAddress is { } own ? CheckDedicatedAddress(own) : null;
        var dedicated6 = request.DedicatedAddress6 is { } own6 ? CheckDedicatedAddress6(own6) : null;

        byte[]? privateKey = null;
        string publicKey;
        if (request.PublicKey is { } given)
        {
            publicKey = CheckPublicKey(given);
        }
        else
        {
            privateKey = new byte[KeySize];
            var derived = new byte[KeySize];
            var crypto = new OpenSslCrypto();
            crypto.GeneratePrivateKey(privateKey);
            crypto.DerivePublicKey(privateKey, derived);
            publicKey = Convert.ToBase64String(derived);
        }

        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                var peer = await _store.AddPeerAsync(
                    new NewPeer { Name = request.Name, PublicKey = publicKey, TunnelAddress = tunnelAddress },
                    _identity.Pool, cancellationToken).ConfigureAwait(false);
                if (dedicated is not null)
                    await AssignOrUndoAsync(peer, dedicated).ConfigureAwait(false);
                if (dedicated6 is not null)
                    await AssignOrUndoAsync(peer, dedicated6).ConfigureAwait(false);
                _peers.Upsert(peer);
                _device.AddPeer(peer);
                if (dedicated is not null || dedicated6 is not null)
                    await PublishDedicatedAsync(CancellationToken.None).ConfigureAwait(false);
                GatewayOperationsLog.PeerAdded(_logger, peer.Name, peer.TunnelAddress, privateKey is not null);
                return new AddedPeer(View(peer, new PeerDedicated(dedicated, dedicated6)), ClientConfig(peer, privateKey, dedicated));
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            if (privateKey is not null)
                CryptographicOperations.ZeroMemory(privateKey);
        }
    }

    // Not cancellable: once the peer is stored, either both rows stay or neither does.
    private async Task AssignOrUndoAsync(StoredPeer peer, IPAddress dedicated)
    {
        try
        {
            await _store.AssignDedicatedAddressAsync(dedicated, peer.Id, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            await _store.RemovePeerAsync(peer.Id, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    private static void CheckName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength)
            throw new AdminRequestException($"A peer name has 1–{MaxNameLength} characters.");
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new AdminRequestException("A peer name holds only letters, digits, '.', '_' and '-'.");
        }
    }

    private static string CheckPublicKey(string key)
    {
        Span<byte> bytes = stackalloc byte[KeySize + 3];
        if (!Convert.TryFromBase64String(key.Trim(), bytes, out var length) || length != KeySize)
            throw new AdminRequestException("The public key must be 32 bytes in base64, as 'wg pubkey' prints it.");
        if (bytes[..KeySize].IndexOfAnyExcept((byte)0) < 0)
            throw new AdminRequestException("The public key must not be all zeros.");
        return Convert.ToBase64String(bytes[..KeySize]);
    }

    private IPAddress CheckTunnelAddress(IPAddress address)
    {
        var plain = Plain(address);
        if (plain.Equals(_identity.TunnelAddress))
            throw new AdminRequestException($"Tunnel address {plain} is the gateway's own.");
        if (!_identity.Pool.CanAssign(plain))
            throw new AdminRequestException($"Tunnel address {plain} is not a host address of the tunnel prefix {_identity.TunnelPrefix}.");
        return plain;
    }

    private IPAddress CheckDedicatedAddress(IPAddress address)
    {
        var plain = Plain(address);
        if (plain.AddressFamily != AddressFamily.InterNetwork || IPAddress.Any.Equals(plain) || IPAddress.Broadcast.Equals(plain)
            || IPAddress.IsLoopback(plain) || plain.GetAddressBytes()[0] >= 224)
            throw new AdminRequestException($"Dedicated address {address} is not a unicast IPv4 address.");
        foreach (var shared in _identity.PublicAddresses)
        {
            if (shared.Equals(plain))
                throw new AdminRequestException($"Dedicated address {plain} is a shared public address of this gateway.");
        }
        if (_identity.TunnelPrefix.Contains(plain))
            throw new AdminRequestException($"Dedicated address {plain} lies in the tunnel prefix.");
        return plain;
    }

    // IPv6: only with NAT66 — with a routed prefix every peer already egresses from, and is reached on, its own /128.
    private IPAddress CheckDedicatedAddress6(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6 || address.ScopeId != 0
            || !Configuration.TunnelIpv6.IsUnicast(address))
            throw new AdminRequestException($"Dedicated address {address} is not a unicast IPv6 address.");
        if (_identity.Ipv6 is not { } ipv6)
            throw new AdminRequestException($"Dedicated address {address} is IPv6; this gateway carries no IPv6 in its tunnel (NAT66 needs [tunnel] address6 with [nat] public_addresses6).");
        if (ipv6.Routed)
            throw new AdminRequestException($"Dedicated address {address} is IPv6; with a routed IPv6 prefix every peer already has a global /128 of its own.");
        if (_identity.PublicAddresses6.Contains(address))
            throw new AdminRequestException($"Dedicated address {address} is a shared public address of this gateway.");
        if (ipv6.Prefix.Contains(address))
            throw new AdminRequestException($"Dedicated address {address} lies in the tunnel's IPv6 prefix.");
        return address;
    }

    private static IPAddress Plain(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.Unmapped();
    }
}

/// <summary>A peer's dedicated addresses, one per family at most.</summary>
internal readonly record struct PeerDedicated(IPAddress? V4, IPAddress? V6)
{
    public PeerDedicated With(IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? this with { V6 = V6 ?? address } : this with { V4 = V4 ?? address };
}
