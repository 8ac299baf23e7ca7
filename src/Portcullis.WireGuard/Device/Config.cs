using System.Security.Cryptography;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// The control plane: peers and device settings, applied from UAPI requests as a whole — a request whose bind
/// cannot be opened changes nothing. One lock (configGate) serializes every change; the packet path never takes it.
/// </summary>
public sealed partial class WireGuardDevice : IUapiDevice
{
    private readonly Lock _configGate = new();
    private readonly Dictionary<string, Peer> _peers = [];
    private readonly TimestampMemory _removedTimestamps = new();
    private ushort _configuredPort;
    private uint _fwmark;

    private static string KeyOf(ReadOnlySpan<byte> publicKey) => Convert.ToHexString(publicKey);

    /// <summary>The peer with this public key, or null: one dictionary lookup (the admin API asks per listed peer).</summary>
    public Peer? FindPeer(ReadOnlySpan<byte> publicKey)
    {
        lock (_configGate)
            return _peers.GetValueOrDefault(KeyOf(publicKey));
    }

    public IReadOnlyList<Peer> Peers
    {
        get { lock (_configGate) return [.. _peers.Values]; }
    }

    public UapiDeviceState GetState()
    {
        lock (_configGate)
        {
            byte[]? privateKey = null;
            if (Noise.HasPrivateKey)
            {
                privateKey = new byte[32];
                Noise.CopyPrivateKey(privateKey);
            }
            var states = new List<UapiPeerState>(_peers.Count);
            foreach (var peer in _peers.Values)
            {
                states.Add(new UapiPeerState(peer.PublicKeyBytes, peer.PresharedKey, peer.Endpoint, peer.LastHandshake,
                    peer.TxBytes, peer.RxBytes, peer.PersistentKeepaliveInterval, AllowedIps.EntriesFor(peer)));
            }
            return new UapiDeviceState(privateKey, ListenPort, _fwmark, states);
        }
    }

    public void Apply(UapiSetRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_configGate)
        {
            // Everything that can refuse the request is checked before anything changes.
            var added = request.Peers.Count(p => !p.Remove && !p.UpdateOnly && !_peers.ContainsKey(KeyOf(p.PublicKey)));
            if ((request.ReplacePeers ? 0 : _peers.Count) + added > DeviceLimits.MaxPeers)
                throw new UapiException(-28, "too many peers"); // ENOSPC
            // The one step that can fail for reasons outside the request goes first, so failure changes nothing.
            if (request.ListenPort is { } port && port != ListenPort)
            {
                if (_up)
                {
                    try
                    {
                        OpenBind(port);
                    }
                    catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
                    {
                        throw new UapiException(-98, $"cannot listen on UDP port {port}: {e.Message}"); // EADDRINUSE
                    }
                    Log.ListenPortChanged(Name, ListenPort);
                }
                _configuredPort = port;
            }
            if (request.Fwmark is { } mark)
            {
                _fwmark = mark;
                _bind?.SetMark(mark);
            }
            if (request.PrivateKey is { } key)
                SetPrivateKey(key);
            if (request.ReplacePeers)
            {
                foreach (var peer in _peers.Values.ToList())
                    RemovePeer(peer);
            }
            foreach (var change in request.Peers)
                ApplyPeer(change);
        }
    }

    private void SetPrivateKey(byte[] key)
    {
        Noise.SetPrivateKey(key);
        CookieChecker.Init(Noise.PublicKey);
        // A peer with our own public key would be talking to itself; old sessions were made with the old key.
        var displaced = new List<Keypair>();
        foreach (var peer in _peers.Values.ToList())
        {
            if (Noise.HasPrivateKey && peer.PublicKeyBytes.AsSpan().SequenceEqual(Noise.PublicKey))
            {
                RemovePeer(peer);
                continue;
            }
            peer.Keypairs.Clear(displaced);
            peer.Handshake.Clear();
        }
        RetireKeypairs(displaced);
    }

    private void ApplyPeer(UapiPeerChange change)
    {
        var key = KeyOf(change.PublicKey);
        _peers.TryGetValue(key, out var peer);
        if (change.Remove)
        {
            if (peer is not null)
                RemovePeer(peer);
            return;
        }
        if (peer is null)
        {
            if (change.UpdateOnly)
                return;
            if (Noise.HasPrivateKey && change.PublicKey.AsSpan().SequenceEqual(Noise.PublicKey))
                return; // wireguard-go ignores a peer that is ourselves
            peer = AddPeer(change.PublicKey);
        }
        if (change.PresharedKey is { } psk)
            peer.SetPresharedKey(psk);
        if (change.Endpoint is { } endpoint)
            peer.SetEndpoint(endpoint);
        if (change.ReplaceAllowedIps)
            AllowedIps.RemoveByValue(peer);
        foreach (var prefix in change.RemovedAllowedIps)
        {
            if (AllowedIps.EntriesFor(peer).Contains(prefix))
                AllowedIps.Remove(prefix);
        }
        foreach (var prefix in change.AddedAllowedIps)
            AllowedIps.Insert(prefix, peer);
        if (change.PersistentKeepaliveInterval is { } interval)
        {
            var was = peer.PersistentKeepaliveInterval;
            peer.PersistentKeepaliveInterval = interval;
            if (was == 0 && interval > 0)
                peer.Timers.PersistentKeepaliveEnabled();
        }
    }

    private Peer AddPeer(byte[] publicKey)
    {
        var handshake = Noise.CreateHandshake(publicKey, []);
        var cookies = new CookieGenerator(Crypto);
        cookies.Init(publicKey);
        var peer = new Peer(this, (byte[])publicKey.Clone(), handshake, cookies);
        handshake.Owner = peer;
        if (_removedTimestamps.Find(KeyOf(publicKey)) is { } floor)
            handshake.RaiseTimestampFloor(floor);
        _peers[KeyOf(publicKey)] = peer;
        Log.PeerAdded(Name, DeviceLog.Short(peer.PublicKeyBytes));
        return peer;
    }

    private void RemovePeer(Peer peer)
    {
        peer.Removed = true;
        _peers.Remove(KeyOf(peer.PublicKeyBytes));
        peer.Timers.Dispose();
        AllowedIps.RemoveByValue(peer);
        var displaced = new List<Keypair>();
        peer.Keypairs.Clear(displaced);
        RetireKeypairs(displaced);
        var index = peer.Handshake.LocalIndex;
        if (index != 0)
            Indices.Delete(index);
        Span<byte> timestamp = stackalloc byte[Portcullis.WireGuard.Noise.NoiseConstants.TimestampSize];
        peer.Handshake.CopyLastTimestamp(timestamp);
        _removedTimestamps.Remember(KeyOf(peer.PublicKeyBytes), timestamp);
        // Destroy, not Clear: the preshared key and the precomputed static-static secret go too.
        peer.Handshake.Destroy();
        peer.ClearStaged();
        Log.PeerRemoved(Name, DeviceLog.Short(peer.PublicKeyBytes));
        EndSession(peer, SessionEndReason.Removed);
    }
}

public sealed partial class Peer
{
    private byte[]? _presharedKey;

    /// <summary>The preshared key when one is set (for UAPI get), else null.</summary>
    internal byte[]? PresharedKey => _presharedKey is null ? null : (byte[])_presharedKey.Clone();

    internal void SetPresharedKey(byte[] key)
    {
        Handshake.SetPresharedKey(key);
        if (_presharedKey is not null)
            CryptographicOperations.ZeroMemory(_presharedKey);
        _presharedKey = key.AsSpan().IndexOfAnyExcept((byte)0) < 0 ? null : (byte[])key.Clone();
    }
}
