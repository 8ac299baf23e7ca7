using System.Buffers.Binary;
using Portcullis.Core.Io;
using Portcullis.Core.Time;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

// Handshakes, as wireguard-go's RoutineHandshake, on one thread fed by a bounded queue:
// 1. The receiver queues handshake messages in a queue fair between sources (HandshakeQueue.cs): when it is full, a
//    message takes the place of the oldest message of a source holding at least two more, so a flood from many
//    addresses cannot keep out a peer that sends one initiation every few seconds.
// 2. Under load — measured queue pressure: the queue at least 1/8 full, or a message refused or displaced, within the
//    last second — every message first costs its source a token (20/s, burst 5, per address), then needs MAC1 and
//    MAC2; without MAC2 the sender gets a cookie reply and nothing else. So a flooding source gets at most 20 cookie
//    replies or Diffie-Hellmans a second, and the rest of its messages cost a table lookup each.
// 3. Otherwise a message needs only MAC1 before any Diffie-Hellman is spent on it.
// 4. Initiation → response and a new "next" keypair; response → a new current keypair and a keepalive (or the
//    staged packets) to confirm it; cookie reply → the peer's cookie for MAC2.
public sealed partial class WireGuardDevice
{
    private const int HandshakeBatch = 32;

    private readonly HandshakeQueue _handshakeQueue = new(DeviceLimits.HandshakeQueueSize, HandshakeBatch);

    // Written by the handshake thread only (one reply at a time, sent before the next is made).
    private readonly byte[] _cookieReply = new byte[MessageType.CookieReplySize];
    private readonly byte[] _response = new byte[MessageType.ResponseSize];
    private TimeSpan _underLoadUntil;
    private bool _underLoadSaid;

    private void EnqueueHandshake(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now)
    {
        var admission = _handshakeQueue.TryAdd(message, source, out var queued);
        if (admission != HandshakeAdmission.Added)
            Counters.Add(DropReason.HandshakeQueueFull);
        if (admission != HandshakeAdmission.Added || queued >= DeviceLimits.UnderLoadThreshold)
            _underLoadUntil = now + DeviceLimits.UnderLoadHoldTime;
    }

    /// <summary>True while the handshake queue is (or within the last second was) at least 1/8 full or overflowing.</summary>
    internal bool IsUnderLoad(TimeSpan now) =>
        now < _underLoadUntil || _handshakeQueue.Count >= DeviceLimits.UnderLoadThreshold;

    /// <summary>Handshake messages waiting for the handshake thread.</summary>
    internal int QueuedHandshakes => _handshakeQueue.Count;

    /// <summary>Forces the under-load state for a while (tests of the cookie path use it).</summary>
    internal void AssumeUnderLoad(TimeSpan duration) => _underLoadUntil = Now + duration;

    private void ProcessHandshakes()
    {
        var displaced = new List<Keypair>();
        var batch = new HandshakeWork[HandshakeBatch];
        int n;
        while ((n = _handshakeQueue.TakeBatch(batch)) > 0)
        {
            try
            {
                for (var i = 0; i < n; i++)
                    ProcessHandshake(batch[i].Message.AsSpan(0, batch[i].Length), batch[i].Source, displaced);
            }
            finally
            {
                _handshakeQueue.Return(batch.AsSpan(0, n));
            }
        }
    }

    private void ProcessHandshake(ReadOnlySpan<byte> message, UdpEndpoint source, List<Keypair> displaced)
    {
        var now = Now;
        if (message[0] == MessageType.CookieReply)
        {
            var receiver = BinaryPrimitives.ReadUInt32LittleEndian(message[4..]);
            if (!Indices.TryLookup(receiver, out var entry) || !entry.Peer.Cookies.ConsumeReply(message, now))
                Counters.Add(DropReason.BadMac);
            return;
        }
        var underLoad = IsUnderLoad(now);
        SayLoadChanged(underLoad);
        // Under load the cheapest check goes first: a source past its rate costs one lookup, not a MAC.
        if (underLoad && !HandshakeLimiter.Allow(source, now))
        {
            Counters.Add(DropReason.RateLimited);
            return;
        }
        if (!CookieChecker.CheckMac1(message))
        {
            Counters.Add(DropReason.BadMac);
            return;
        }
        if (underLoad)
        {
            if (!CookieChecker.CheckMac2(message, source, now))
            {
                SendCookieReply(message, source, now);
                return;
            }
        }
        if (message[0] == MessageType.Initiation)
            ProcessInitiation(message, source, now, displaced);
        else
            ProcessResponse(message, source, now, displaced);
    }

    /// <summary>
    /// One line when the device enters under-load mode and one when it leaves, never one per packet. Both are noticed
    /// by the handshake thread, so leaving is said with the first handshake processed after the load has passed.
    /// </summary>
    private void SayLoadChanged(bool underLoad)
    {
        if (underLoad == _underLoadSaid)
            return;
        _underLoadSaid = underLoad;
        if (underLoad)
            Log.UnderLoad(Name, Counters.HandshakeQueueFull, Counters.RateLimited, Counters.CookieRepliesSent);
        else
            Log.LoadPassed(Name, Counters.HandshakeQueueFull, Counters.RateLimited, Counters.CookieRepliesSent);
    }

    private void ProcessInitiation(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now, List<Keypair> displaced)
    {
        var handshake = Noise.ConsumeInitiation(message, LookupPeerHandshake, now);
        if (handshake?.Owner is not Peer peer || peer.Removed)
        {
            Counters.Add(DropReason.HandshakeRejected);
            Counters.AddHandshake(HandshakeRole.Responder, HandshakeResult.Rejected);
            return;
        }
        peer.SetEndpoint(source);
        Interlocked.Add(ref peer.receivedBytes, message.Length);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketReceived();

        ReplaceHandshakeIndex(peer, handshake, out var index);
        if (!Noise.CreateResponse(handshake, index, _response))
        {
            Indices.Delete(index);
            return;
        }
        if (!DeriveKeypair(peer, handshake, displaced))
            return;
        peer.Cookies.AddMacs(_response, now);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketSent();
        SendHandshakeMessage(peer, _response);
    }

    private void ProcessResponse(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now, List<Keypair> displaced)
    {
        var handshake = Noise.ConsumeResponse(message, Indices.LookupHandshake);
        if (handshake?.Owner is not Peer peer || peer.Removed)
        {
            Counters.Add(DropReason.HandshakeRejected);
            Counters.AddHandshake(HandshakeRole.Initiator, HandshakeResult.Rejected);
            return;
        }
        peer.SetEndpoint(source);
        Interlocked.Add(ref peer.receivedBytes, message.Length);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketReceived();
        if (!DeriveKeypair(peer, handshake, displaced))
            return;
        peer.Timers.HandshakeComplete();
        // The responder may not send on the new keys until we do: confirm with what waited, or a keepalive.
        if (!SendStagedPackets(peer))
            SendKeepalive(peer);
    }

    private Handshake? LookupPeerHandshake(ReadOnlySpan<byte> remoteStatic) =>
        FindPeer(remoteStatic)?.Handshake;

    /// <summary>Turns a finished handshake into a keypair, registers it under the handshake's index, and installs it.</summary>
    private bool DeriveKeypair(Peer peer, Handshake handshake, List<Keypair> displaced)
    {
        Span<byte> sendKey = stackalloc byte[32];
        Span<byte> receiveKey = stackalloc byte[32];
        try
        {
            if (!Noise.BeginSession(handshake, sendKey, receiveKey, out var indices))
                return false;
            var keypair = new Keypair(peer, Crypto, Options.Workers, sendKey, receiveKey,
                indices.LocalIndex, indices.RemoteIndex, indices.IsInitiator, Now);
            Indices.SwapToKeypair(indices.LocalIndex, keypair);
            peer.Keypairs.Install(keypair, displaced);
            RetireKeypairs(displaced);
            peer.Timers.SessionDerived();
            Counters.AddHandshake(indices.IsInitiator ? HandshakeRole.Initiator : HandshakeRole.Responder, HandshakeResult.Completed);
            Log.SessionDerived(Name, DeviceLog.Short(peer.PublicKeyBytes), indices.IsInitiator);
            RaiseSessionEstablished(peer);
            return true;
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(sendKey);
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(receiveKey);
        }
    }

    /// <summary>A handshake gets a fresh index each time; the old one, if still registered, goes.</summary>
    private void ReplaceHandshakeIndex(Peer peer, Handshake handshake, out uint index)
    {
        var old = handshake.LocalIndex;
        if (old != 0 && Indices.LookupHandshake(old) is not null)
            Indices.Delete(old);
        index = Indices.NewIndexForHandshake(peer, handshake);
    }

    /// <summary>Sends a handshake initiation, at most once per REKEY_TIMEOUT (retries come from the retransmit timer).</summary>
    internal void SendHandshakeInitiation(Peer peer, bool isRetry)
    {
        var now = Now;
        lock (peer.HandshakeGate)
        {
            if (!isRetry)
                peer.HandshakeAttempts = 0;
            if (peer.LastSentHandshake != TimeSpan.MinValue && now - peer.LastSentHandshake < ProtocolConstants.RekeyTimeout)
                return;
            peer.LastSentHandshake = now;
        }
        if (!_up || peer.Removed || !Noise.HasPrivateKey)
            return;
        var message = new byte[MessageType.InitiationSize];
        Span<byte> timestamp = stackalloc byte[12];
        Tai64N.Write(Time.GetUtcNow().UtcDateTime, timestamp);
        ReplaceHandshakeIndex(peer, peer.Handshake, out var index);
        if (!Noise.CreateInitiation(peer.Handshake, index, timestamp, message))
        {
            Indices.Delete(index);
            return;
        }
        peer.Cookies.AddMacs(message, now);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketSent();
        SendHandshakeMessage(peer, message);
        Counters.AddHandshake(HandshakeRole.Initiator, HandshakeResult.Sent);
        peer.Timers.HandshakeInitiated();
        Log.InitiationSent(Name, DeviceLog.Short(peer.PublicKeyBytes));
    }

    private void SendHandshakeMessage(Peer peer, byte[] message)
    {
        var current = _bind;
        if (current is null || !peer.TryGetEndpoint(out var endpoint))
        {
            Counters.Add(DropReason.NoEndpoint);
            return;
        }
        ReadOnlySpan<ArraySegment<byte>> one = [new ArraySegment<byte>(message)];
        current.Send(one, endpoint);
        Interlocked.Add(ref peer.sentBytes, message.Length);
    }

    private void SendCookieReply(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now)
    {
        CookieChecker.CreateReply(message, source, now, _cookieReply);
        ReadOnlySpan<ArraySegment<byte>> one = [new ArraySegment<byte>(_cookieReply)];
        _bind?.Send(one, source);
        Counters.Add(DropReason.CookieReplySent);
    }

    /// <summary>No new session for 3 × REJECT_AFTER_TIME: forget every key this peer had.</summary>
    internal void ZeroKeyMaterial(Peer peer)
    {
        var displaced = new List<Keypair>();
        peer.Keypairs.Clear(displaced);
        RetireKeypairs(displaced);
        var index = peer.Handshake.LocalIndex;
        if (index != 0)
            Indices.Delete(index);
        peer.Handshake.Clear();
        EndSession(peer, SessionEndReason.KeysExpired);
    }
}
