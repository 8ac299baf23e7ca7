using System.Buffers.Binary;
using Portcullis.Core.Io;
using Portcullis.Core.Net;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Device;

// Inbound, as wireguard-go's receive.go:
// 1. The UDP receiver takes a batch of datagrams. Handshake messages are copied to the handshake queue; transport
//    messages are matched to a keypair by receiver index and pre-checked against its replay window; the rest is
//    counted and dropped.
// 2. The batch joins the crypto queue and the write queue in arrival order.
// 3. Crypto workers open whole batches in parallel, in place (CryptoWorkers.cs).
// 4. The writer takes batches in order: replay window, session confirmation, roaming, timers, then the inner packet's
//    source must be one of its peer's allowed IPs before it is written to the TUN.
public sealed partial class WireGuardDevice
{
    private void ReceiveFromBind(IBind from)
    {
        while (_up)
        {
            if (!_inboundPool.Take(out var batch))
                return;
            // Datagrams as large as our own packets fit, and any up to MinBufferSize whatever our MTU.
            batch.Fit(DeviceLimits.BufferSizeFor(Tun.Mtu));
            batch.Open(0, 0);
            int n;
            try
            {
                // The bind fills the batch's own slots; it may reorder their buffers when it drops a datagram, so
                // each datagram is found through batch.Packets from here on.
                n = from.Receive(batch.Packets.AsSpan(0, batch.Capacity), batch.Endpoints.AsSpan(0, batch.Capacity));
            }
            catch (ObjectDisposedException)
            {
                n = IoResult.Closed;
            }
            if (n <= 0)
            {
                _inboundPool.Add(batch);
                // Datagrams larger than these buffers: the next batch is sized by the MTU as it is now.
                if (n == IoResult.NothingFitted)
                    continue;
                return;
            }
            var now = Now;
            var transport = 0;
            for (var i = 0; i < n; i++)
            {
                if (Classify(batch.Packets[i], batch.Endpoints[i], now, out var keypair, out var counter))
                {
                    batch.Keypairs[i] = keypair;
                    batch.Nonces[i] = counter;
                    transport++;
                }
            }
            batch.Count = n;
            if (transport > 0)
            {
                _cryptoQueue.Add(batch);
                _writeQueue.Add(batch);
            }
            else
            {
                batch.Reset();
                _inboundPool.Add(batch);
            }
        }
    }

    /// <summary>
    /// True for a plausible transport message (keypair and counter out); handshake messages are queued here, and
    /// everything else is counted and dropped.
    /// </summary>
    private bool Classify(ReadOnlySpan<byte> datagram, UdpEndpoint source, TimeSpan now, out Keypair? keypair, out ulong counter)
    {
        keypair = null;
        counter = 0;
        // Type and the three reserved bytes as one little-endian word: reserved bytes must be zero.
        if (datagram.Length < 4)
        {
            Counters.Add(DropReason.Malformed);
            return false;
        }
        var type = BinaryPrimitives.ReadUInt32LittleEndian(datagram);
        switch (type)
        {
            case MessageType.Transport when datagram.Length >= MessageType.TransportMinimumSize:
                var receiver = BinaryPrimitives.ReadUInt32LittleEndian(datagram[MessageType.TransportReceiverOffset..]);
                counter = BinaryPrimitives.ReadUInt64LittleEndian(datagram[MessageType.TransportCounterOffset..]);
                keypair = Indices.LookupKeypair(receiver);
                if (keypair is null)
                {
                    Counters.Add(DropReason.UnknownIndex);
                    return false;
                }
                if (keypair.IsRetired || now - keypair.Created >= ProtocolConstants.RejectAfterTime)
                {
                    Counters.Add(DropReason.ExpiredKeypair);
                    keypair = null;
                    return false;
                }
                if (!keypair.Replay.IsPlausible(counter, ProtocolConstants.RejectAfterMessages))
                {
                    Counters.Add(DropReason.Replayed);
                    keypair = null;
                    return false;
                }
                return true;
            case MessageType.Initiation when datagram.Length == MessageType.InitiationSize:
            case MessageType.Response when datagram.Length == MessageType.ResponseSize:
            case MessageType.CookieReply when datagram.Length == MessageType.CookieReplySize:
                EnqueueHandshake(datagram, source, now);
                return false;
            default:
                Counters.Add(DropReason.Malformed);
                return false;
        }
    }

    /// <summary>Step 3 for one inbound packet: authenticate and decrypt in place.</summary>
    private void Open(PacketBatch batch, int i, int worker)
    {
        var keypair = batch.Keypairs[i];
        if (keypair is null)
            return;
        var body = batch.Packets[i][MessageType.TransportHeaderSize..];
        if (keypair.IsRetired || !keypair.ReceiveCipher(worker).Open(batch.Nonces[i], body, body.AsSpan(0, body.Count - ProtocolConstants.TagSize)))
        {
            Counters.Add(DropReason.AuthenticationFailed);
            batch.Keypairs[i] = null;
            return;
        }
        batch.Packets[i] = body[..^ProtocolConstants.TagSize];
    }

    private void WriteBatches()
    {
        var segments = new ArraySegment<byte>[DeviceLimits.BatchSize];
        var displaced = new List<Keypair>();
        while (_writeQueue.Take(out var batch))
        {
            batch.WaitProcessed();
            var n = 0;
            Peer? runPeer = null;
            Keypair? runKeypair = null;
            var runData = false;
            long runBytes = 0;
            var runPackets = 0;
            var runEndpoint = default(UdpEndpoint);
            for (var i = 0; i < batch.Count; i++)
            {
                var keypair = batch.Keypairs[i];
                if (keypair is null)
                    continue;
                if (!keypair.Replay.Validate(batch.Nonces[i], ProtocolConstants.RejectAfterMessages))
                {
                    Counters.Add(DropReason.Replayed);
                    continue;
                }
                var peer = keypair.Peer;
                if (!ReferenceEquals(peer, runPeer))
                {
                    if (runPeer is not null)
                        FinishReceiveRun(runPeer, runEndpoint, runBytes, runPackets, runData);
                    runPeer = peer;
                    runBytes = 0;
                    runPackets = 0;
                    runData = false;
                    runKeypair = null;
                }
                if (!ReferenceEquals(keypair, runKeypair))
                {
                    runKeypair = keypair;
                    ConfirmSession(peer, keypair, displaced);
                }
                runEndpoint = batch.Endpoints[i];
                var packet = batch.Packets[i];
                runBytes += packet.Count + MessageType.TransportMinimumSize;
                runPackets++;
                if (packet.Count == 0)
                    continue; // keepalive
                runData = true;
                var innerLength = InnerPacketLength(packet);
                if (innerLength == 0)
                {
                    Counters.Add(DropReason.BadInnerPacket);
                    continue;
                }
                // Cryptokey routing, inbound half: the inner source must belong to the peer that sent it.
                if (!IpPacket.TryGetSource(packet, out var source) || !ReferenceEquals(AllowedIps.Lookup(source), peer))
                {
                    Counters.Add(DropReason.DisallowedSource);
                    continue;
                }
                segments[n++] = packet[..innerLength];
            }
            if (runPeer is not null)
                FinishReceiveRun(runPeer, runEndpoint, runBytes, runPackets, runData);
            if (n > 0)
            {
                try
                {
                    Tun.Write(segments.AsSpan(0, n));
                }
                catch (ObjectDisposedException)
                {
                    // Shutting down.
                }
            }
            batch.Reset();
            _inboundPool.Add(batch);
        }
    }

    /// <summary>The length the inner IP header declares (dropping WireGuard's padding), or 0 when it does not fit.</summary>
    internal static int InnerPacketLength(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 20)
            return 0;
        switch (packet[0] >> 4)
        {
            case 4:
                var total = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
                return total >= 20 && total <= packet.Length ? total : 0;
            case 6:
                if (packet.Length < 40)
                    return 0;
                var length = 40 + BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
                return length <= packet.Length ? length : 0;
            default:
                return 0;
        }
    }

    /// <summary>A packet on the responder's "next" keypair confirms the session: rotate it in and flush what waited.</summary>
    private void ConfirmSession(Peer peer, Keypair keypair, List<Keypair> displaced)
    {
        if (!peer.Keypairs.ConfirmReceivedOn(keypair, displaced))
            return;
        RetireKeypairs(displaced);
        peer.Timers.HandshakeComplete();
        SendStagedPackets(peer);
    }

    /// <summary>Per run of one peer's packets: roaming, byte counters and timers, once rather than per packet.</summary>
    private void FinishReceiveRun(Peer peer, UdpEndpoint endpoint, long bytes, int packets, bool data)
    {
        peer.SetEndpoint(endpoint);
        Interlocked.Add(ref peer.receivedBytes, bytes);
        Counters.AddReceived(bytes, packets);
        peer.Timers.AnyAuthenticatedPacketReceived();
        peer.Timers.AnyAuthenticatedPacketTraversal();
        if (data)
            peer.Timers.DataReceived();
        KeepKeyFreshReceiving(peer);
    }

    /// <summary>
    /// The initiator's last-minute rekey (whitepaper 6.2): when its current session is about to be rejected and data
    /// still flows in, start a handshake once rather than wait for its own next send.
    /// </summary>
    private void KeepKeyFreshReceiving(Peer peer)
    {
        if (peer.SentLastMinuteHandshake)
            return;
        var keypair = peer.Keypairs.Current;
        if (keypair is null || !keypair.IsInitiator)
            return;
        if (Now - keypair.Created > ProtocolConstants.RejectAfterTime - ProtocolConstants.KeepaliveTimeout - ProtocolConstants.RekeyTimeout)
        {
            peer.SentLastMinuteHandshake = true;
            SendHandshakeInitiation(peer, isRetry: false);
        }
    }
}
