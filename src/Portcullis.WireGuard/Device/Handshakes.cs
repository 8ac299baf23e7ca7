using System.Buffers.Binary;
using Portcullis.Core.Io;
using Portcullis.Core.Time;
using Portcullis.WireGuard.Messages;
using Portcullis.WireGuard.Noise;

namespace Portcullis.WireGuard.Device;

// Handshakes, as wireguard-go's RoutineHandshake, on one thread fed by a bounded queue:
// 1. Every handshake message must carry a valid MAC1 before any Diffie-Hellman is spent on it.
// 2. Under load (queue at least 1/8 full, held for a second) a message also needs MAC2; without it the sender gets a
//    cookie reply and nothing else, and each source address is rate limited.
// 3. Initiation → response and a new "next" keypair; response → a new current keypair and a keepalive (or the
//    staged packets) to confirm it; cookie reply → the peer's cookie for MAC2.
public sealed partial class WireGuardDevice
{
    private sealed class HandshakeWork
    {
        public readonly byte[] Message = new byte[MessageType.InitiationSize];
        public int Length;
        public UdpEndpoint Source;
    }

    private readonly WorkQueue<HandshakeWork> handshakeQueue;
    private readonly WorkQueue<HandshakeWork> handshakePool;
    private TimeSpan underLoadUntil;

    private void EnqueueHandshake(ReadOnlySpan<byte> message, UdpEndpoint source, TimeSpan now)
    {
        if (!handshakePool.TryTake(out var work))
        {
            Counters.Add(DropReason.HandshakeQueueFull);
            return;
        }
        message.CopyTo(work.Message);
        work.Length = message.Length;
        work.Source = source;
        if (!handshakeQueue.TryAdd(work))
        {
            handshakePool.TryAdd(work);
            Counters.Add(DropReason.HandshakeQueueFull);
            return;
        }
        if (handshakeQueue.Count >= DeviceLimits.UnderLoadThreshold)
            underLoadUntil = now + DeviceLimits.UnderLoadHoldTime;
    }

    /// <summary>True while the handshake queue is (or recently was) at least 1/8 full.</summary>
    internal bool IsUnderLoad(TimeSpan now) =>
        handshakeQueue.Count >= DeviceLimits.UnderLoadThreshold || now < underLoadUntil;

    /// <summary>Forces the under-load state for a while (tests of the cookie path use it).</summary>
    internal void AssumeUnderLoad(TimeSpan duration) => underLoadUntil = Now + duration;

    private void ProcessHandshakes()
    {
        var displaced = new List<Keypair>();
        while (handshakeQueue.Take(out var work))
        {
            try
            {
                ProcessHandshake(work.Message.AsSpan(0, work.Length), work.Source, displaced);
            }
            finally
            {
                handshakePool.TryAdd(work);
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
        if (!CookieChecker.CheckMac1(message))
        {
            Counters.Add(DropReason.BadMac);
            return;
        }
        if (IsUnderLoad(now))
        {
            if (!CookieChecker.CheckMac2(message, source, now))
            {
                SendCookieReply(message, source, now);
                return;
            }
            if (!HandshakeLimiter.Allow(source, now))
            {
                Counters.Add(DropReason.RateLimited);
                return;
            }
        }
        if (message[0] == MessageType.Initiation)
            ProcessInitiation(message, source, now, displaced);
        else
            ProcessResponse(message, source, now, displaced);
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

        var response = new byte[MessageType.ResponseSize];
        ReplaceHandshakeIndex(peer, handshake, out var index);
        if (!Noise.CreateResponse(handshake, index, response))
        {
            Indices.Delete(index);
            return;
        }
        if (!DeriveKeypair(peer, handshake, displaced))
            return;
        peer.Cookies.AddMacs(response, now);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketSent();
        SendHandshakeMessage(peer, response);
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
        if (!up || peer.Removed || !Noise.HasPrivateKey)
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
        var current = bind;
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
        var reply = new byte[MessageType.CookieReplySize];
        CookieChecker.CreateReply(message, source, now, reply);
        ReadOnlySpan<ArraySegment<byte>> one = [new ArraySegment<byte>(reply)];
        bind?.Send(one, source);
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
