using Portcullis.Core.Io;
using Portcullis.WireGuard.Cookies;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

/// <summary>
/// One peer: its identity, where it is, its sessions and its timers. Fields are grouped by what guards them.
/// </summary>
public sealed partial class Peer
{
    internal Peer(WireGuardDevice device, byte[] publicKey, Handshake handshake, CookieGenerator cookies)
    {
        Device = device;
        PublicKeyBytes = publicKey;
        Handshake = handshake;
        Cookies = cookies;
        Timers = new PeerTimers(this, device.Time);
    }

    internal WireGuardDevice Device { get; }
    internal byte[] PublicKeyBytes { get; }
    public ReadOnlyMemory<byte> PublicKey => PublicKeyBytes;

    internal Handshake Handshake { get; }
    internal CookieGenerator Cookies { get; }
    internal Keypairs Keypairs { get; } = new();
    internal PeerTimers Timers { get; }

    // Guarded by endpointGate: the outer address, updated by roaming on every authenticated packet.
    private readonly Lock _endpointGate = new();
    private UdpEndpoint _endpoint;
    private bool _hasEndpoint;

    public UdpEndpoint? Endpoint
    {
        get { lock (_endpointGate) return _hasEndpoint ? _endpoint : null; }
    }

    internal void SetEndpoint(UdpEndpoint value)
    {
        lock (_endpointGate)
        {
            _endpoint = value;
            _hasEndpoint = true;
        }
    }

    internal bool TryGetEndpoint(out UdpEndpoint value)
    {
        lock (_endpointGate)
        {
            value = _endpoint;
            return _hasEndpoint;
        }
    }

    // Counters: atomics, written on the packet path.
    internal long sentBytes;
    internal long receivedBytes;
    internal long lastHandshakeUnixNanoseconds;

    public ulong TxBytes => (ulong)Interlocked.Read(ref sentBytes);
    public ulong RxBytes => (ulong)Interlocked.Read(ref receivedBytes);

    public DateTimeOffset? LastHandshake
    {
        get
        {
            var ns = Interlocked.Read(ref lastHandshakeUnixNanoseconds);
            return ns == 0 ? null : DateTimeOffset.UnixEpoch.AddTicks(ns / 100);
        }
    }

    /// <summary>Seconds between keepalives sent regardless of traffic (0 = off), to hold NAT and firewall state open.</summary>
    public ushort PersistentKeepaliveInterval { get; internal set; }

    // Guarded by handshakeGate: initiation pacing and retries.
    internal readonly Lock HandshakeGate = new();
    internal int HandshakeAttempts;
    internal TimeSpan LastSentHandshake = TimeSpan.MinValue;
    internal bool SentLastMinuteHandshake;

    // Guarded by stagedGate: packets that wait for a session (copied: this is the slow path).
    private readonly Lock _stagedGate = new();
    private readonly Queue<byte[]> _staged = new();

    internal void Stage(ReadOnlySpan<byte> packet)
    {
        lock (_stagedGate)
        {
            if (_staged.Count >= DeviceLimits.StagedPacketsPerPeer)
                _staged.Dequeue();
            _staged.Enqueue(packet.ToArray());
        }
    }

    internal int DrainStaged(List<byte[]> into)
    {
        lock (_stagedGate)
        {
            var n = _staged.Count;
            while (_staged.Count > 0)
                into.Add(_staged.Dequeue());
            return n;
        }
    }

    internal void ClearStaged()
    {
        lock (_stagedGate)
            _staged.Clear();
    }

    // Session events: a session is live from the first handshake after none until the peer goes quiet or is removed.
    // SessionGate makes the flip and the raising of its event one step (WireGuardDevice.RaiseSessionEstablished).
    internal readonly Lock SessionGate = new();
    private int _sessionLive;

    internal bool MarkSessionLive() => Interlocked.Exchange(ref _sessionLive, 1) == 0;

    internal bool MarkSessionEnded() => Interlocked.Exchange(ref _sessionLive, 0) == 1;

    public bool HasLiveSession => Volatile.Read(ref _sessionLive) != 0;

    internal volatile bool Removed;
}
