using System.Buffers.Binary;
using System.Net;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.ClientSide;

/// <summary>
/// The client's half of NAT-PMP (RFC 6886): 12-byte map requests out; 16-byte map responses and 12-byte public
/// address announcements in, read strictly (version 0, the request's opcode + 128, exact size, our internal port).
/// </summary>
public static class NatPmpClientCodec
{
    public static int WriteMapRequest(Span<byte> destination, MappingProtocol protocol, ushort internalPort,
        ushort suggestedExternalPort, uint lifetime)
    {
        var request = destination[..NatPmpMessages.MapRequestSize];
        request[0] = NatPmpMessages.Version;
        request[1] = (byte)OpcodeFor(protocol);
        request[2] = 0;
        request[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(request[4..], internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(request[6..], suggestedExternalPort);
        BinaryPrimitives.WriteUInt32BigEndian(request[8..], lifetime);
        return request.Length;
    }

    /// <summary>Writes the 2-byte public-address request; its answer carries the epoch (RFC 6886 §3.2).</summary>
    public static int WritePublicAddressRequest(Span<byte> destination)
    {
        destination[0] = NatPmpMessages.Version;
        destination[1] = (byte)NatPmpOpcode.PublicAddress;
        return NatPmpMessages.PublicAddressRequestSize;
    }

    /// <summary>Reads the answer to a map request for (<paramref name="protocol"/>, <paramref name="internalPort"/>); false when it is not one.</summary>
    public static bool TryReadMapResponse(ReadOnlySpan<byte> datagram, MappingProtocol protocol, ushort internalPort, out MappingAnswer answer)
    {
        answer = default;
        if (datagram.Length != NatPmpMessages.MapResponseSize || datagram[0] != NatPmpMessages.Version
            || datagram[1] != ((byte)OpcodeFor(protocol) | NatPmpMessages.ResponseFlag)
            || BinaryPrimitives.ReadUInt16BigEndian(datagram[8..]) != internalPort)
            return false;
        var result = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        var externalPort = BinaryPrimitives.ReadUInt16BigEndian(datagram[10..]);
        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(datagram[12..]);
        var granted = result == (ushort)NatPmpResultCode.Success && (lifetime == 0 || externalPort != 0);
        answer = new MappingAnswer(
            granted ? MappingOutcome.Granted : MappingOutcome.Refused,
            MappingWire.NatPmp,
            granted ? 0 : (result == 0 ? (int)NatPmpResultCode.NetworkFailure : result),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]),
            internalPort,
            externalPort,
            null,
            lifetime);
        return true;
    }

    /// <summary>A public-address response (the gateway's unsolicited announcement); its epoch and address.</summary>
    public static bool TryReadPublicAddress(ReadOnlySpan<byte> datagram, out uint epoch, out IPAddress? address)
    {
        epoch = 0;
        address = null;
        if (datagram.Length != NatPmpMessages.PublicAddressResponseSize || datagram[0] != NatPmpMessages.Version
            || datagram[1] != ((byte)NatPmpOpcode.PublicAddress | NatPmpMessages.ResponseFlag))
            return false;
        epoch = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]) == (ushort)NatPmpResultCode.Success)
            address = new IPAddress(datagram[8..12]);
        return true;
    }

    private static NatPmpOpcode OpcodeFor(MappingProtocol protocol) =>
        protocol == MappingProtocol.Udp ? NatPmpOpcode.MapUdp : NatPmpOpcode.MapTcp;
}
