using System.Buffers.Binary;
using System.Net;
using Portcullis.Core.Net;
using Portcullis.Core.Replay;
using Portcullis.WireGuard.Crypto;
using Portcullis.WireGuard.Device;
using Portcullis.WireGuard.Messages;
using static Portcullis.Fuzz.Targets.WireGuard.WireGuardFixture;

namespace Portcullis.Fuzz.Targets.WireGuard;

/// <summary>
/// The inbound transport path in the order the device runs it: header (type, receiver index, counter), replay
/// pre-check, ChaCha20-Poly1305 open with the session's receive key, replay window, inner packet length (padding
/// dropped), inner source against the peer's allowed IPs.
///
/// The first input byte picks who sends. Even: the rest is the datagram as an outsider sends it; whatever opens must
/// seal back to the same bytes. Odd: an authenticated peer sends bytes 9.. as the plaintext under counter bytes 1–8,
/// sealed here with the genuine session key, so the fuzzer reaches the inner-packet parsing a peer controls.
/// </summary>
internal sealed class TransportTarget : FuzzTarget
{
    private static readonly object Peer = new();
    private static readonly object Stranger = new();

    private readonly ITransportCipher _sender = Crypto.CreateTransportCipher(InitiatorSendKey);
    private readonly ITransportCipher _receiver = Crypto.CreateTransportCipher(ResponderReceiveKey);
    private readonly AllowedIps<object> _allowed = NewAllowedIps();

    public override string Name => "wg-transport";


    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
            return;
        byte[] datagram;
        var sealedHere = (input[0] & 1) == 1;
        if (sealedHere)
        {
            var counter = input.Length >= 9 ? BinaryPrimitives.ReadUInt64LittleEndian(input[1..9]) : 0;
            var plaintext = input.Length >= 9 ? input[9..] : [];
            datagram = new byte[MessageType.TransportHeaderSize + plaintext.Length + ProtocolConstants.TagSize];
            BinaryPrimitives.WriteUInt32LittleEndian(datagram, MessageType.Transport);
            BinaryPrimitives.WriteUInt32LittleEndian(datagram.AsSpan(MessageType.TransportReceiverOffset), ResponderIndex);
            BinaryPrimitives.WriteUInt64LittleEndian(datagram.AsSpan(MessageType.TransportCounterOffset), counter);
            _sender.Seal(counter, plaintext, datagram.AsSpan(MessageType.TransportHeaderSize));
        }
        else
        {
            datagram = input[1..].ToArray();
        }
        Receive(datagram, sealedHere && input.Length >= 9 ? input[9..] : [], sealedHere);
    }

    private void Receive(byte[] datagram, ReadOnlySpan<byte> sentPlaintext, bool sealedHere)
    {
        var isTransport = datagram.Length >= MessageType.TransportMinimumSize && BinaryPrimitives.ReadUInt32LittleEndian(datagram) == MessageType.Transport;
        Check.That(isTransport == (MessageHeader.Classify(datagram) == MessageType.Transport), "Classify says transport exactly for type 4 and at least 32 bytes");
        if (!isTransport)
            return;
        if (BinaryPrimitives.ReadUInt32LittleEndian(datagram.AsSpan(MessageType.TransportReceiverOffset)) != ResponderIndex)
            return; // unknown index: dropped before any work
        var counter = BinaryPrimitives.ReadUInt64LittleEndian(datagram.AsSpan(MessageType.TransportCounterOffset));
        var replay = new ReplayWindow();
        var plausible = replay.IsPlausible(counter, ProtocolConstants.RejectAfterMessages);
        Check.That(plausible == counter < ProtocolConstants.RejectAfterMessages, "a fresh window takes every counter below the limit, and none above");
        if (!plausible)
            return;

        var body = datagram.AsSpan(MessageType.TransportHeaderSize);
        var ciphertext = body.ToArray();
        var plaintext = body[..^ProtocolConstants.TagSize];
        var opened = _receiver.Open(counter, body, plaintext);
        if (sealedHere)
        {
            Check.That(opened, "what the peer sealed with the session key opens");
            Check.That(plaintext.SequenceEqual(sentPlaintext), "it opens to what was sealed");
        }
        if (!opened)
            return;
        if (!sealedHere)
        {
            var resealed = new byte[ciphertext.Length];
            _sender.Seal(counter, plaintext, resealed);
            Check.That(resealed.AsSpan().SequenceEqual(ciphertext), "whatever opens was sealed with the session key: it seals back to the same bytes");
        }

        Accept();
        Check.That(replay.Validate(counter, ProtocolConstants.RejectAfterMessages), "an opened counter is taken once");
        Check.That(!replay.Validate(counter, ProtocolConstants.RejectAfterMessages), "and refused the second time");
        Check.That(!replay.IsPlausible(counter, ProtocolConstants.RejectAfterMessages), "the pre-check refuses it too");

        if (plaintext.IsEmpty)
            return; // keepalive
        var inner = WireGuardDevice.InnerPacketLength(plaintext);
        Check.That(inner <= plaintext.Length, "the inner packet fits in what was decrypted");
        if (inner == 0)
            return;
        Check.That(IpPacket.TryGetSource(plaintext, out var source), "a packet with a valid length has a source");
        Check.That(source.Length == (IpPacket.Version(plaintext) == 4 ? 4 : 16), "the source has its family's size");
        var owner = _allowed.Lookup(source);
        Check.That(owner is null || owner == Peer || owner == Stranger, "allowed IPs answers with a peer or nobody");
    }

    public override IEnumerable<(string Name, byte[] Data)> ComputedSeeds()
    {
        // An IPv4 UDP packet from the peer's address, and one from someone else's.
        byte[] Ipv4(byte[] source)
        {
            var packet = new byte[28];
            packet[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 28);
            packet[8] = 64;
            packet[9] = 17;
            source.CopyTo(packet, 12);
            new byte[] { 10, 99, 0, 1 }.CopyTo(packet, 16);
            return packet;
        }
        byte[] Ipv6()
        {
            var packet = new byte[48];
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 8);
            packet[6] = 17;
            packet[8] = 0xfd;
            packet[23] = 2;
            return packet;
        }
        byte[] Peer(ulong counter, byte[] plaintext)
        {
            var input = new byte[9 + plaintext.Length];
            input[0] = 1;
            BinaryPrimitives.WriteUInt64LittleEndian(input.AsSpan(1), counter);
            plaintext.CopyTo(input, 9);
            return input;
        }
        byte[] Outsider(ulong counter, byte[] plaintext)
        {
            var input = new byte[1 + MessageType.TransportHeaderSize + plaintext.Length + ProtocolConstants.TagSize];
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(1), MessageType.Transport);
            BinaryPrimitives.WriteUInt32LittleEndian(input.AsSpan(1 + MessageType.TransportReceiverOffset), ResponderIndex);
            BinaryPrimitives.WriteUInt64LittleEndian(input.AsSpan(1 + MessageType.TransportCounterOffset), counter);
            _sender.Seal(counter, plaintext, input.AsSpan(1 + MessageType.TransportHeaderSize));
            return input;
        }
        var padded = new byte[32];
        Ipv4([10, 99, 0, 2]).CopyTo(padded, 0);
        return
        [
            ("peer-keepalive", Peer(0, [])),
            ("peer-ipv4", Peer(1, Ipv4([10, 99, 0, 2]))),
            ("peer-ipv4-padded", Peer(2, padded)),
            ("peer-ipv4-spoofed", Peer(3, Ipv4([192, 0, 2, 100]))),
            ("peer-ipv6", Peer(4, Ipv6())),
            ("outsider-keepalive", Outsider(5, [])),
            ("outsider-ipv4", Outsider(6, Ipv4([10, 99, 0, 2]))),
        ];
    }

    private static AllowedIps<object> NewAllowedIps()
    {
        var allowed = new AllowedIps<object>();
        allowed.Insert(IPNetwork.Parse("10.99.0.2/32"), Peer);
        allowed.Insert(IPNetwork.Parse("fd00::/64"), Peer);
        allowed.Insert(IPNetwork.Parse("10.99.0.3/32"), Stranger);
        return allowed;
    }
}
