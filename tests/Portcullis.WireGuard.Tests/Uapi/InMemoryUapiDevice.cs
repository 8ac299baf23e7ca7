using System.Net;
using Portcullis.Core.Io;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>
/// A double of the device (not of the UAPI): keeps whatever Apply received, with the semantics of
/// wireguard-go's set (replace_peers, remove, update_only, replace_allowed_ips, all-zero key = clear),
/// all or nothing, and returns it from GetState. Thread-safe so tests can read it while the server runs.
/// </summary>
internal sealed class InMemoryUapiDevice : IUapiDevice
{
    private readonly Lock _lock = new();
    private readonly List<PeerEntry> _peers = [];
    private byte[]? _privateKey;
    private ushort _listenPort;
    private uint _fwmark;

    /// <summary>Listen ports the "system" refuses, to test how a device error reaches the client.</summary>
    public ushort RefusedPort { get; init; }

    /// <summary>When set, Apply throws this (not a UapiException) to test the server's catch-all.</summary>
    public Exception? Crash { get; set; }

    public int ApplyCount { get; private set; }

    public UapiSetRequest? LastRequest { get; private set; }

    /// <summary>The snapshot GetState handed out last (copies, as a device must give).</summary>
    public UapiDeviceState? LastState { get; private set; }

    public UapiDeviceState GetState()
    {
        lock (_lock)
        {
            var peers = new List<UapiPeerState>(_peers.Count);
            foreach (var p in _peers)
            {
                peers.Add(new UapiPeerState(p.PublicKey.ToArray(), p.PresharedKey?.ToArray(), p.Endpoint, p.LastHandshake,
                    p.TxBytes, p.RxBytes, p.Keepalive, p.AllowedIps.ToArray()));
            }
            LastState = new UapiDeviceState(_privateKey?.ToArray(), _listenPort, _fwmark, peers);
            return LastState;
        }
    }

    public void Apply(UapiSetRequest request)
    {
        lock (_lock)
        {
            if (Crash is not null)
                throw Crash;
            if (request.ListenPort is { } port && port == RefusedPort && port != 0)
                throw new UapiException(UapiErrno.AddressInUse, "listen port in use");

            // All or nothing: nothing below can fail, so mutate in place.
            LastRequest = request;
            ApplyCount++;
            if (request.PrivateKey is { } key)
                _privateKey = IsZero(key) ? null : key.ToArray();
            if (request.ListenPort is { } listenPort)
                _listenPort = listenPort;
            if (request.Fwmark is { } mark)
                _fwmark = mark;
            if (request.ReplacePeers)
                _peers.Clear();
            foreach (var change in request.Peers)
                ApplyPeer(change);
        }
    }

    /// <summary>Seeds a peer with counters only the data path would produce.</summary>
    public void AddPeer(UapiPeerState state)
    {
        lock (_lock)
        {
            _peers.Add(new PeerEntry(state.PublicKey.ToArray())
            {
                PresharedKey = state.PresharedKey?.ToArray(),
                Endpoint = state.Endpoint,
                LastHandshake = state.LastHandshake,
                TxBytes = state.TxBytes,
                RxBytes = state.RxBytes,
                Keepalive = state.PersistentKeepaliveInterval,
                AllowedIps = [.. state.AllowedIps],
            });
        }
    }

    private void ApplyPeer(UapiPeerChange change)
    {
        var index = _peers.FindIndex(p => p.PublicKey.AsSpan().SequenceEqual(change.PublicKey));
        if (change.Remove)
        {
            if (index >= 0)
                _peers.RemoveAt(index);
            return;
        }
        if (index < 0)
        {
            if (change.UpdateOnly)
                return;
            _peers.Add(new PeerEntry(change.PublicKey.ToArray()));
            index = _peers.Count - 1;
        }

        var peer = _peers[index];
        if (change.PresharedKey is { } psk)
            peer.PresharedKey = IsZero(psk) ? null : psk.ToArray();
        if (change.Endpoint is { } endpoint)
            peer.Endpoint = endpoint;
        if (change.PersistentKeepaliveInterval is { } keepalive)
            peer.Keepalive = keepalive;
        if (change.ReplaceAllowedIps)
            peer.AllowedIps.Clear();
        foreach (var prefix in change.RemovedAllowedIps)
            peer.AllowedIps.Remove(prefix);
        foreach (var prefix in change.AddedAllowedIps)
        {
            if (!peer.AllowedIps.Contains(prefix))
                peer.AllowedIps.Add(prefix);
        }
    }

    private static bool IsZero(byte[] key) => key.AsSpan().IndexOfAnyExcept((byte)0) < 0;

    private sealed class PeerEntry(byte[] publicKey)
    {
        public byte[] PublicKey { get; } = publicKey;
        public byte[]? PresharedKey { get; set; }
        public UdpEndpoint? Endpoint { get; set; }
        public DateTimeOffset? LastHandshake { get; set; }
        public ulong TxBytes { get; set; }
        public ulong RxBytes { get; set; }
        public ushort Keepalive { get; set; }
        public List<IPNetwork> AllowedIps { get; set; } = [];
    }
}
