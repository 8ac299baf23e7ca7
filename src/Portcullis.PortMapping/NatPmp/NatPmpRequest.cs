using System.Buffers.Binary;

namespace Portcullis.PortMapping.NatPmp;

/// <summary>What one datagram turned out to be, read as NAT-PMP.</summary>
public enum NatPmpParseStatus
{
    /// <summary>A well-formed request of a supported opcode.</summary>
    Request,
    /// <summary>Version byte not 0: answer with the "unsupported version" response (RFC 6886 §3.5).</summary>
    UnsupportedVersion,
    /// <summary>Opcode below 128 that we do not know: echo the request with result 5 (RFC 6886 §3.5).</summary>
    UnsupportedOpcode,
    /// <summary>Shorter than 2 bytes, a response (opcode ≥ 128), or a known opcode of the wrong size: silently dropped.</summary>
    Dropped,
}

/// <summary>
/// A parsed NAT-PMP request (RFC 6886 §3.2, §3.3). Public address: version 0, opcode 0, exactly 2 bytes.
/// Map: version 0, opcode 1 (UDP) or 2 (TCP), 16 reserved bits, internal port, suggested external port,
/// requested lifetime in seconds — exactly 12 bytes.
/// </summary>
public readonly record struct NatPmpRequest(
    NatPmpOpcode Opcode,
    ushort Reserved,
    ushort InternalPort,
    ushort SuggestedExternalPort,
    uint RequestedLifetime)
{
    public bool IsMap => Opcode is NatPmpOpcode.MapUdp or NatPmpOpcode.MapTcp;

    /// <summary>The mapping's protocol; only meaningful when <see cref="IsMap"/>.</summary>
    public MappingProtocol Protocol => Opcode == NatPmpOpcode.MapUdp ? MappingProtocol.Udp : MappingProtocol.Tcp;

    /// <summary>
    /// Reads <paramref name="datagram"/>. Responses are dropped before the version is looked at, so two servers can
    /// never keep answering each other. The reserved field is returned but, as RFC 6886 says, not judged.
    /// </summary>
    public static NatPmpParseStatus Parse(ReadOnlySpan<byte> datagram, out NatPmpRequest request)
    {
        request = default;
        if (datagram.Length < 2 || (datagram[1] & NatPmpMessages.ResponseFlag) != 0)
            return NatPmpParseStatus.Dropped;
        if (datagram[0] != NatPmpMessages.Version)
            return NatPmpParseStatus.UnsupportedVersion;

        switch ((NatPmpOpcode)datagram[1])
        {
            case NatPmpOpcode.PublicAddress:
                if (datagram.Length != NatPmpMessages.PublicAddressRequestSize)
                    return NatPmpParseStatus.Dropped;
                request = new NatPmpRequest(NatPmpOpcode.PublicAddress, 0, 0, 0, 0);
                return NatPmpParseStatus.Request;
            case NatPmpOpcode.MapUdp:
            case NatPmpOpcode.MapTcp:
                if (datagram.Length != NatPmpMessages.MapRequestSize)
                    return NatPmpParseStatus.Dropped;
                request = new NatPmpRequest(
                    (NatPmpOpcode)datagram[1],
                    BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
                    BinaryPrimitives.ReadUInt16BigEndian(datagram[4..]),
                    BinaryPrimitives.ReadUInt16BigEndian(datagram[6..]),
                    BinaryPrimitives.ReadUInt32BigEndian(datagram[8..]));
                return NatPmpParseStatus.Request;
            default:
                return NatPmpParseStatus.UnsupportedOpcode;
        }
    }
}
