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
    private readonly Peer peer;
    private readonly TimeProvider time;
    private readonly PeerTimer retransmitHandshake;
    private readonly PeerTimer sendKeepalive;
    private readonly PeerTimer newHandshake;
    private readonly PeerTimer zeroKeyMaterial;
    private readonly PeerTimer persistentKeepalive;
    private readonly PeerTimer sessionIdle;
    private volatile bool needAnotherKeepalive;
    private volatile bool stopped;

    public PeerTimers(Peer peer, TimeProvider time)
    {
        this.peer = peer;
        this.time = time;
        retransmitHandshake = new PeerTimer(time, OnRetransmitHandshake);
        sendKeepalive = new PeerTimer(time, OnSendKeepalive);
        newHandshake = new PeerTimer(time, OnNewHandshake);
        zeroKeyMaterial = new PeerTimer(time, OnZeroKeyMaterial);
        persistentKeepalive = new PeerTimer(time, OnPersistentKeepalive);
        sessionIdle = new PeerTimer(time, OnSessionIdle);
    }

    private WireGuardDevice Device => peer.Device;

    private bool Active => !stopped && !peer.Removed && Device.IsUp;

    private static TimeSpan Jitter() =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(ProtocolConstants.RekeyTimeoutJitterMaxMilliseconds + 1));

    // Expiry handlers.

    private void OnRetransmitHandshake()
    {
        if (!Active)
            return;
        int attempts;
        lock (peer.HandshakeGate)
            attempts = peer.HandshakeAttempts;
        if (attempts > ProtocolConstants.MaxHandshakeAttempts)
        {
            Device.Log.HandshakeGaveUp(Device.Name, attempts);
            Device.Counters.AddHandshake(HandshakeRole.Initiator, HandshakeResult.TimedOut);
            sendKeepalive.Del();
            peer.ClearStaged();
            if (!zeroKeyMaterial.IsPending)
                zeroKeyMaterial.Mod(ProtocolConstants.ZeroKeyMaterialAfter);
            return;
        }
        lock (peer.HandshakeGate)
            peer.HandshakeAttempts++;
        Device.SendHandshakeInitiation(peer, isRetry: true);
    }

    private void OnSendKeepalive()
    {
        if (!Active)
            return;
        Device.SendKeepalive(peer);
        if (needAnotherKeepalive)
        {
            needAnotherKeepalive = false;
            sendKeepalive.Mod(ProtocolConstants.KeepaliveTimeout);
        }
    }

    private void OnNewHandshake()
    {
        if (!Active)
            return;
        Device.SendHandshakeInitiation(peer, isRetry: false);
    }

    private void OnZeroKeyMaterial()
    {
        if (stopped)
            return;
        Device.ZeroKeyMaterial(peer);
    }

    private void OnPersistentKeepalive()
    {
        if (Active && peer.PersistentKeepaliveInterval > 0)
            Device.SendKeepalive(peer);
    }

    private void OnSessionIdle()
    {
        if (!stopped)
            Device.EndSession(peer, SessionEndReason.Idle);
    }

    // Events.

    /// <summary>An authenticated data packet was sent: expect a reply soon, or rehandshake.</summary>
    public void DataSent()
    {
        if (Active && !newHandshake.IsPending)
            newHandshake.Mod(ProtocolConstants.KeepaliveTimeout + ProtocolConstants.RekeyTimeout + Jitter());
    }

    /// <summary>An authenticated data packet was received: answer within KEEPALIVE_TIMEOUT, with a keepalive if nothing else.</summary>
    public void DataReceived()
    {
        if (!Active)
            return;
        if (!sendKeepalive.IsPending)
            sendKeepalive.Mod(ProtocolConstants.KeepaliveTimeout);
        else
            needAnotherKeepalive = true;
    }

    /// <summary>Any authenticated packet (data, keepalive or handshake) was sent.</summary>
    public void AnyAuthenticatedPacketSent()
    {
        if (Active)
            sendKeepalive.Del();
    }

    /// <summary>Any authenticated packet was received.</summary>
    public void AnyAuthenticatedPacketReceived()
    {
        if (!Active)
            return;
        newHandshake.Del();
        sessionIdle.Mod(Device.Options.SessionTimeout);
    }

    public void HandshakeInitiated()
    {
        if (Active)
            retransmitHandshake.Mod(ProtocolConstants.RekeyTimeout + Jitter());
    }

    public void HandshakeComplete()
    {
        if (Active)
            retransmitHandshake.Del();
        lock (peer.HandshakeGate)
            peer.HandshakeAttempts = 0;
        peer.SentLastMinuteHandshake = false;
        var now = time.GetUtcNow();
        Interlocked.Exchange(ref peer.lastHandshakeUnixNanoseconds, (now - DateTimeOffset.UnixEpoch).Ticks * 100);
    }

    public void SessionDerived()
    {
        if (Active)
            zeroKeyMaterial.Mod(ProtocolConstants.ZeroKeyMaterialAfter);
    }

    /// <summary>Any authenticated packet went either way: restart the persistent keepalive countdown.</summary>
    public void AnyAuthenticatedPacketTraversal()
    {
        var interval = peer.PersistentKeepaliveInterval;
        if (interval > 0 && Active)
            persistentKeepalive.Mod(TimeSpan.FromSeconds(interval));
    }

    /// <summary>Called when persistent keepalive is switched on, so the first one goes out now (as wireguard-go).</summary>
    public void PersistentKeepaliveEnabled()
    {
        if (Active)
            persistentKeepalive.Mod(TimeSpan.Zero);
    }

    public void Dispose()
    {
        stopped = true;
        retransmitHandshake.Dispose();
        sendKeepalive.Dispose();
        newHandshake.Dispose();
        zeroKeyMaterial.Dispose();
        persistentKeepalive.Dispose();
        sessionIdle.Dispose();
    }
}
