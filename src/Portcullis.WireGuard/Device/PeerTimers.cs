namespace Portcullis.WireGuard.Device;

/// <summary>
/// The per-peer timer state machine of the whitepaper (section 6.5), as wireguard-go's timers.go:
///   data sent, no reply within KEEPALIVE + REKEY_TIMEOUT  → new handshake
///   data received, nothing sent back within KEEPALIVE     → keepalive
///   initiation sent, no response within REKEY_TIMEOUT     → retransmit (up to REKEY_ATTEMPT_TIME)
///   no new session for 3 × REJECT_AFTER_TIME              → zero all key material
///   persistent keepalive interval of silence              → keepalive
/// plus ours: no authenticated packet for SessionTimeout   → "session ended" event.
/// Events are named after wireguard-go's timersXxx functions so the two can be read side by side.
/// </summary>
internal sealed class PeerTimers : IDisposable
{
    private readonly Peer _peer;
    private readonly TimeProvider _time;
    private readonly PeerTimer _retransmitHandshake;
    private readonly PeerTimer _sendKeepalive;
    private readonly PeerTimer _newHandshake;
    private readonly PeerTimer _zeroKeyMaterial;
    private readonly PeerTimer _persistentKeepalive;
    private readonly PeerTimer _sessionIdle;
    private volatile bool _needAnotherKeepalive;
    private volatile bool _stopped;

    public PeerTimers(Peer peer, TimeProvider time)
    {
        _peer = peer;
        _time = time;
        _retransmitHandshake = new PeerTimer(time, OnRetransmitHandshake);
        _sendKeepalive = new PeerTimer(time, OnSendKeepalive);
        _newHandshake = new PeerTimer(time, OnNewHandshake);
        _zeroKeyMaterial = new PeerTimer(time, OnZeroKeyMaterial);
        _persistentKeepalive = new PeerTimer(time, OnPersistentKeepalive);
        _sessionIdle = new PeerTimer(time, OnSessionIdle);
    }

    private WireGuardDevice Device => _peer.Device;

    private bool Active => !_stopped && !_peer.Removed && Device.IsUp;

    private static TimeSpan Jitter() =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(ProtocolConstants.RekeyTimeoutJitterMaxMilliseconds + 1));

    // Expiry handlers.

    private void OnRetransmitHandshake()
    {
        if (!Active)
            return;
        int attempts;
        lock (_peer.HandshakeGate)
            attempts = _peer.HandshakeAttempts;
        if (attempts > ProtocolConstants.MaxHandshakeAttempts)
        {
            Device.Log.HandshakeGaveUp(Device.Name, attempts);
            Device.Counters.AddHandshake(HandshakeRole.Initiator, HandshakeResult.TimedOut);
            _sendKeepalive.Del();
            _peer.ClearStaged();
            if (!_zeroKeyMaterial.IsPending)
                _zeroKeyMaterial.Mod(ProtocolConstants.ZeroKeyMaterialAfter);
            return;
        }
        lock (_peer.HandshakeGate)
            _peer.HandshakeAttempts++;
        Device.SendHandshakeInitiation(_peer, isRetry: true);
    }

    private void OnSendKeepalive()
    {
        if (!Active)
            return;
        Device.SendKeepalive(_peer);
        if (_needAnotherKeepalive)
        {
            _needAnotherKeepalive = false;
            _sendKeepalive.Mod(ProtocolConstants.KeepaliveTimeout);
        }
    }

    private void OnNewHandshake()
    {
        if (!Active)
            return;
        Device.SendHandshakeInitiation(_peer, isRetry: false);
    }

    private void OnZeroKeyMaterial()
    {
        if (_stopped)
            return;
        Device.ZeroKeyMaterial(_peer);
    }

    private void OnPersistentKeepalive()
    {
        if (Active && _peer.PersistentKeepaliveInterval > 0)
            Device.SendKeepalive(_peer);
    }

    private void OnSessionIdle()
    {
        if (!_stopped)
            Device.EndSession(_peer, SessionEndReason.Idle);
    }

    // Events.

    /// <summary>An authenticated data packet was sent: expect a reply soon, or rehandshake.</summary>
    public void DataSent()
    {
        if (Active && !_newHandshake.IsPending)
            _newHandshake.Mod(ProtocolConstants.KeepaliveTimeout + ProtocolConstants.RekeyTimeout + Jitter());
    }

    /// <summary>An authenticated data packet was received: answer within KEEPALIVE_TIMEOUT, with a keepalive if nothing else.</summary>
    public void DataReceived()
    {
        if (!Active)
            return;
        if (!_sendKeepalive.IsPending)
            _sendKeepalive.Mod(ProtocolConstants.KeepaliveTimeout);
        else
            _needAnotherKeepalive = true;
    }

    /// <summary>Any authenticated packet (data, keepalive or handshake) was sent.</summary>
    public void AnyAuthenticatedPacketSent()
    {
        if (Active)
            _sendKeepalive.Del();
    }

    /// <summary>Any authenticated packet was received.</summary>
    public void AnyAuthenticatedPacketReceived()
    {
        if (!Active)
            return;
        _newHandshake.Del();
        _sessionIdle.Mod(Device.Options.SessionTimeout);
    }

    public void HandshakeInitiated()
    {
        if (Active)
            _retransmitHandshake.Mod(ProtocolConstants.RekeyTimeout + Jitter());
    }

    public void HandshakeComplete()
    {
        if (Active)
            _retransmitHandshake.Del();
        lock (_peer.HandshakeGate)
            _peer.HandshakeAttempts = 0;
        _peer.SentLastMinuteHandshake = false;
        var now = _time.GetUtcNow();
        Interlocked.Exchange(ref _peer.lastHandshakeUnixNanoseconds, (now - DateTimeOffset.UnixEpoch).Ticks * 100);
    }

    public void SessionDerived()
    {
        if (Active)
            _zeroKeyMaterial.Mod(ProtocolConstants.ZeroKeyMaterialAfter);
    }

    /// <summary>Any authenticated packet went either way: restart the persistent keepalive countdown.</summary>
    public void AnyAuthenticatedPacketTraversal()
    {
        var interval = _peer.PersistentKeepaliveInterval;
        if (interval > 0 && Active)
            _persistentKeepalive.Mod(TimeSpan.FromSeconds(interval));
    }

    /// <summary>Called when persistent keepalive is switched on, so the first one goes out now (as wireguard-go).</summary>
    public void PersistentKeepaliveEnabled()
    {
        if (Active)
            _persistentKeepalive.Mod(TimeSpan.Zero);
    }

    public void Dispose()
    {
        _stopped = true;
        _retransmitHandshake.Dispose();
        _sendKeepalive.Dispose();
        _newHandshake.Dispose();
        _zeroKeyMaterial.Dispose();
        _persistentKeepalive.Dispose();
        _sessionIdle.Dispose();
    }
}
