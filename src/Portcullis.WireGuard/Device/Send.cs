using System.Buffers.Binary;
using Portcullis.Core.Io;
using Portcullis.Core.Net;
using Portcullis.WireGuard.Messages;

namespace Portcullis.WireGuard.Device;

// Outbound, as wireguard-go's send.go:
// 1. The TUN reader takes a batch of packets and routes each by destination to a peer (allowed IPs).
// 2. Under the order lock each packet gets its peer's current keypair and the next nonce, and the batch joins the
//    crypto queue and the send queue in that order. Packets with no usable session are staged and a handshake starts.
// 3. Crypto workers seal whole batches in parallel, in place (CryptoWorkers.cs).
// 4. The sender waits for each batch in order and sends each run of one peer's packets with one batched send.
public sealed partial class WireGuardDevice
{
    private readonly Lock _orderGate = new();

    private void ReadFromTun()
    {
        while (_up)
        {
            if (!_outboundPool.Take(out var batch))
                return;
            batch.Fit(DeviceLimits.BufferSizeFor(Tun.Mtu));
            batch.Open(DeviceLimits.HeaderRoom, DeviceLimits.TrailerRoom);
            int n;
            try
            {
                n = Tun.Read(batch.Packets.AsSpan(0, batch.Capacity));
            }
            catch (ObjectDisposedException)
            {
                n = IoResult.Closed;
            }
            if (n <= 0)
            {
                _outboundPool.Add(batch);
                // A packet larger than these buffers (the MTU grew): the next batch is sized for it.
                if (n == IoResult.NothingFitted)
                    continue;
                // Not closed by us: the interface is gone (deleted, or with its namespace).
                if (_up)
                    TunClosed?.Invoke();
                return;
            }
            for (var i = 0; i < n; i++)
                batch.Peers[i] = Route(batch.Packets[i]);
            batch.Count = n;
            SubmitOutbound(batch);
        }
    }

    private Peer? Route(ReadOnlySpan<byte> packet)
    {
        if (IpPacket.TryGetDestination(packet, out var destination) && AllowedIps.Lookup(destination) is { } peer)
            return peer;
        Counters.Add(DropReason.NoRoute);
        return null;
    }

    /// <summary>
    /// Step 2: gives each routed packet a keypair and nonce and queues the batch, or returns it to the pool when
    /// nothing in it can be sent. Packets without a session are staged and start a handshake.
    /// </summary>
    private void SubmitOutbound(PacketBatch batch)
    {
        var now = Now;
        var sendable = 0;
        Peer? lastPeer = null;
        Keypair? keypair = null;
        Peer? needsHandshake = null;
        Peer? needsRekey = null;
        lock (_orderGate)
        {
            for (var i = 0; i < batch.Count; i++)
            {
                var peer = batch.Peers[i];
                if (peer is null)
                    continue;
                if (!ReferenceEquals(peer, lastPeer))
                {
                    // One keypair lookup per run of packets to the same peer, not per packet.
                    lastPeer = peer;
                    keypair = peer.Keypairs.Current;
                    if (keypair is not null && !keypair.IsUsableForSending(now))
                        keypair = null;
                }
                ulong nonce = 0;
                if (keypair is not null)
                {
                    nonce = keypair.NextNonce();
                    if (nonce >= ProtocolConstants.RejectAfterMessages)
                        keypair = null;
                }
                if (keypair is null)
                {
                    peer.Stage(batch.Packets[i]);
                    needsHandshake = peer;
                    batch.Peers[i] = null;
                    continue;
                }
                batch.Keypairs[i] = keypair;
                batch.Nonces[i] = nonce;
                sendable++;
                // Only the initiator rekeys, on age or on message count (whitepaper 6.2).
                if (keypair.IsInitiator && (nonce > ProtocolConstants.RekeyAfterMessages || now - keypair.Created > ProtocolConstants.RekeyAfterTime))
                    needsRekey = peer;
            }
            if (sendable > 0)
            {
                _cryptoQueue.Add(batch);
                _sendQueue.Add(batch);
            }
        }
        if (sendable == 0)
        {
            batch.Reset();
            _outboundPool.Add(batch);
        }
        if (needsHandshake is not null)
            SendHandshakeInitiation(needsHandshake, isRetry: false);
        if (needsRekey is not null && !ReferenceEquals(needsRekey, needsHandshake))
            SendHandshakeInitiation(needsRekey, isRetry: false);
    }

    /// <summary>Step 3 for one outbound packet: header, zero padding to a multiple of 16 (capped at the MTU), seal in place.</summary>
    private void Seal(PacketBatch batch, int i, int worker)
    {
        var keypair = batch.Keypairs[i];
        if (keypair is null)
            return;
        if (keypair.IsRetired)
        {
            batch.Keypairs[i] = null;
            return;
        }
        // The plaintext sits behind HeaderRoom bytes of its buffer, with TrailerRoom bytes free after it.
        var plaintext = batch.Packets[i];
        var buffer = plaintext.Array!;
        var start = plaintext.Offset - DeviceLimits.HeaderRoom;
        var length = plaintext.Count;
        var padded = PaddedLength(length, Tun.Mtu);
        buffer.AsSpan(plaintext.Offset + length, padded - length).Clear();
        var nonce = batch.Nonces[i];
        var message = buffer.AsSpan(start, MessageType.TransportHeaderSize + padded + ProtocolConstants.TagSize);
        message[0] = MessageType.Transport;
        message[1] = message[2] = message[3] = 0;
        BinaryPrimitives.WriteUInt32LittleEndian(message[MessageType.TransportReceiverOffset..], keypair.RemoteIndex);
        BinaryPrimitives.WriteUInt64LittleEndian(message[MessageType.TransportCounterOffset..], nonce);
        var body = message[MessageType.TransportHeaderSize..];
        keypair.SendCipher(worker).Seal(nonce, body[..padded], body);
        batch.Set(i, start, message.Length);
    }

    internal static int PaddedLength(int length, int mtu)
    {
        if (length == 0)
            return 0;
        var padded = (length + ProtocolConstants.PaddingMultiple - 1) & ~(ProtocolConstants.PaddingMultiple - 1);
        return padded > mtu ? Math.Max(length, mtu) : padded;
    }

    private void SendBatches()
    {
        var segments = new ArraySegment<byte>[DeviceLimits.BatchSize];
        while (_sendQueue.Take(out var batch))
        {
            batch.WaitProcessed();
            var i = 0;
            while (i < batch.Count)
            {
                var keypair = batch.Keypairs[i];
                if (keypair is null)
                {
                    i++;
                    continue;
                }
                // A run: consecutive packets of one peer go out in one batched send.
                var peer = keypair.Peer;
                var n = 0;
                long bytes = 0;
                var data = false;
                for (; i < batch.Count; i++)
                {
                    var k = batch.Keypairs[i];
                    if (k is null)
                        continue;
                    if (!ReferenceEquals(k.Peer, peer))
                        break;
                    var message = batch.Packets[i];
                    segments[n++] = message;
                    bytes += message.Count;
                    data |= message.Count > MessageType.TransportMinimumSize;
                }
                SendRun(peer, segments.AsSpan(0, n), bytes, data);
            }
            batch.Reset();
            _outboundPool.Add(batch);
        }
    }

    private void SendRun(Peer peer, ReadOnlySpan<ArraySegment<byte>> packets, long bytes, bool data)
    {
        var current = _bind;
        if (current is null || !peer.TryGetEndpoint(out var endpoint))
        {
            Counters.Add(DropReason.NoEndpoint, packets.Length);
            return;
        }
        current.Send(packets, endpoint);
        Interlocked.Add(ref peer.sentBytes, bytes);
        Counters.AddSent(bytes, packets.Length);
        peer.Timers.AnyAuthenticatedPacketTraversal();
        peer.Timers.AnyAuthenticatedPacketSent();
        if (data)
            peer.Timers.DataSent();
    }

    /// <summary>Sends an empty transport packet, or starts a handshake when there is no session to send it on.</summary>
    internal void SendKeepalive(Peer peer)
    {
        var keypair = peer.Keypairs.Current;
        if (keypair is null || !keypair.IsUsableForSending(Now))
        {
            SendHandshakeInitiation(peer, isRetry: false);
            return;
        }
        // Keepalives are best effort: when every batch is busy the link is anything but idle.
        if (!_outboundPool.TryTake(out var batch))
            return;
        batch.Set(0, DeviceLimits.HeaderRoom, 0);
        batch.Peers[0] = peer;
        batch.Count = 1;
        SubmitOutbound(batch);
    }

    /// <summary>Sends the packets that waited for a session; true when there were any.</summary>
    internal bool SendStagedPackets(Peer peer)
    {
        var packets = new List<byte[]>();
        if (peer.DrainStaged(packets) == 0)
            return false;
        var index = 0;
        while (index < packets.Count)
        {
            if (!_outboundPool.Take(out var batch))
                return true;
            batch.Fit(DeviceLimits.BufferSizeFor(Tun.Mtu));
            var room = batch.BufferSize - DeviceLimits.HeaderRoom - DeviceLimits.TrailerRoom;
            var n = 0;
            for (; index < packets.Count && n < batch.Capacity; index++)
            {
                var packet = packets[index];
                if (packet.Length > room)
                {
                    // Staged before the MTU was lowered: too large to send now.
                    Counters.Add(DropReason.TooBig);
                    continue;
                }
                batch.Set(n, DeviceLimits.HeaderRoom, packet.Length);
                packet.CopyTo(batch.Packets[n].AsSpan());
                batch.Peers[n] = peer;
                n++;
            }
            batch.Count = n;
            SubmitOutbound(batch);
        }
        return true;
    }
}
