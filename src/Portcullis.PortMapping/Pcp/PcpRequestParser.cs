using System.Buffers.Binary;
using System.Net;

namespace Portcullis.PortMapping.Pcp;

/// <summary>
/// Parses and validates a PCP request in the order of RFC 6887 §8.3, §11.3 and §13:
///   1. shorter than 2 bytes, or the R bit set (a response)      → dropped
///   2. version ≠ 2                                              → UNSUPP_VERSION
///   3. shorter than the 24-byte header                          → dropped
///   4. longer than 1100 bytes or not a multiple of 4            → MALFORMED_REQUEST
///   5. client IP field ≠ packet source (a NAT in between)       → ADDRESS_MISMATCH
///   6. opcode other than ANNOUNCE, MAP and PEER                 → UNSUPP_OPCODE; MAP or PEER data short → MALFORMED_REQUEST;
///      PEER with protocol, internal port or remote peer port 0, or no remote peer address → MALFORMED_REQUEST (§12.3)
///   7. options in order: truncated, wrong length, repeated, or not valid for the opcode → MALFORMED_OPTION;
///      unknown mandatory (code &lt; 128) → UNSUPP_OPTION; unknown optional → ignored
///   8. THIRD_PARTY naming the source itself → MALFORMED_REQUEST (§13.1), naming anyone else → NOT_AUTHORIZED:
///      a client acts only for itself (DESIGN invariant 3); PREFER_FAILURE without a suggested port → MALFORMED_OPTION
/// Pure: no sockets, no policy beyond the third-party rule.
/// </summary>
public static class PcpRequestParser
{
    private const int ThirdPartyDataSize = 16;
    private const int FilterDataSize = 20;

    public static PcpParseResult Parse(ReadOnlySpan<byte> datagram, IPAddress source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (datagram.Length < 2 || (datagram[1] & PcpMessages.ResponseFlag) != 0)
            return PcpParseResult.Dropped;
        if (datagram[0] != PcpMessages.Version)
            return PcpParseResult.Failed(PcpResultCode.UnsupportedVersion);
        if (datagram.Length < PcpMessages.HeaderSize)
            return PcpParseResult.Dropped;
        if (datagram.Length > PcpMessages.MaxMessageSize || datagram.Length % 4 != 0)
            return PcpParseResult.Failed(PcpResultCode.MalformedRequest);
        if (!PcpAddress.Holds(datagram[8..24], source))
            return PcpParseResult.Failed(PcpResultCode.AddressMismatch);

        var opcode = (PcpOpcode)datagram[1];
        var body = datagram[PcpMessages.HeaderSize..];
        PcpMapData? map = null;
        PcpPeerData? peer = null;
        switch (opcode)
        {
            case PcpOpcode.Announce:
                break;
            case PcpOpcode.Map:
                if (body.Length < PcpMessages.MapDataSize)
                    return PcpParseResult.Failed(PcpResultCode.MalformedRequest);
                map = ReadMap(body[..PcpMessages.MapDataSize]);
                body = body[PcpMessages.MapDataSize..];
                break;
            case PcpOpcode.Peer:
                if (body.Length < PcpMessages.PeerDataSize)
                    return PcpParseResult.Failed(PcpResultCode.MalformedRequest);
                peer = ReadPeer(body[..PcpMessages.PeerDataSize]);
                if (peer is null)
                    return PcpParseResult.Failed(PcpResultCode.MalformedRequest);
                body = body[PcpMessages.PeerDataSize..];
                break;
            default:
                return PcpParseResult.Failed(PcpResultCode.UnsupportedOpcode);
        }

        var lifetime = BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]);
        var options = ReadOptions(body, opcode);
        if (options.Error != PcpResultCode.Success)
            return PcpParseResult.Failed(options.Error);
        if (options.ThirdParty is { } thirdParty)
            return PcpParseResult.Failed(SameAddress(thirdParty, source) ? PcpResultCode.MalformedRequest : PcpResultCode.NotAuthorized);
        if (options.PreferFailure && map is { SuggestedExternalPort: 0 })
            return PcpParseResult.Failed(PcpResultCode.MalformedOption);

        return PcpParseResult.Valid(new PcpRequest
        {
            Opcode = opcode,
            RequestedLifetime = lifetime,
            ClientAddress = PcpAddress.Read(datagram[8..24]),
            Map = map,
            Peer = peer,
            PreferFailure = options.PreferFailure,
            Filters = options.Filters ?? [],
        });
    }

    private static PcpMapData ReadMap(ReadOnlySpan<byte> data)
    {
        var suggested = data[20..36];
        return new PcpMapData(
            data[..PcpMessages.NonceSize].ToArray(),
            data[12],
            BinaryPrimitives.ReadUInt16BigEndian(data[16..]),
            BinaryPrimitives.ReadUInt16BigEndian(data[18..]),
            PcpAddress.IsUnspecified(suggested) ? null : PcpAddress.Read(suggested));
    }

    /// <summary>The PEER data, or null when a field RFC 6887 §12.3 requires is zero.</summary>
    private static PcpPeerData? ReadPeer(ReadOnlySpan<byte> data)
    {
        var mapping = ReadMap(data[..PcpMessages.MapDataSize]);
        var remotePort = BinaryPrimitives.ReadUInt16BigEndian(data[36..]);
        var remote = data[40..56];
        if (mapping.Protocol == 0 || mapping.InternalPort == 0 || remotePort == 0 || PcpAddress.IsUnspecified(remote))
            return null;
        return new PcpPeerData(mapping, remotePort, PcpAddress.Read(remote));
    }

    private static OptionSet ReadOptions(ReadOnlySpan<byte> options, PcpOpcode opcode)
    {
        var set = new OptionSet();
        while (!options.IsEmpty)
        {
            if (options.Length < PcpMessages.OptionHeaderSize)
                return set with { Error = PcpResultCode.MalformedOption };
            var code = options[0];
            int length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            var padded = PcpMessages.OptionHeaderSize + ((length + 3) & ~3);
            if (padded > options.Length)
                return set with { Error = PcpResultCode.MalformedOption };
            var data = options.Slice(PcpMessages.OptionHeaderSize, length);
            options = options[padded..];

            switch ((PcpOptionCode)code)
            {
                case PcpOptionCode.ThirdParty:
                    if (length != ThirdPartyDataSize || set.ThirdParty is not null || opcode == PcpOpcode.Announce)
                        return set with { Error = PcpResultCode.MalformedOption };
                    set = set with { ThirdParty = PcpAddress.Read(data) };
                    break;
                case PcpOptionCode.PreferFailure:
                    if (length != 0 || set.PreferFailure || opcode != PcpOpcode.Map)
                        return set with { Error = PcpResultCode.MalformedOption };
                    set = set with { PreferFailure = true };
                    break;
                case PcpOptionCode.Filter:
                    if (length != FilterDataSize || opcode != PcpOpcode.Map || !TryReadFilter(data, out var filter))
                        return set with { Error = PcpResultCode.MalformedOption };
                    set = set with { Filters = [.. set.Filters ?? [], filter] };
                    break;
                default:
                    if ((code & PcpMessages.OptionalOptionFlag) == 0)
                        return set with { Error = PcpResultCode.UnsupportedOption };
                    break;
            }
        }
        return set;
    }

    /// <summary>FILTER: reserved, prefix length, remote port, remote address. An IPv4-mapped prefix counts the 96 mapping bits.</summary>
    private static bool TryReadFilter(ReadOnlySpan<byte> data, out PcpFilter filter)
    {
        var prefixLength = data[1];
        var remote = data[4..20];
        filter = new PcpFilter(prefixLength, BinaryPrimitives.ReadUInt16BigEndian(data[2..]), PcpAddress.Read(remote));
        var mapped = remote[..10].IndexOfAnyExcept((byte)0) < 0 && remote[10] == 0xff && remote[11] == 0xff;
        return prefixLength == 0 || (prefixLength <= 128 && (!mapped || prefixLength >= 96));
    }

    private static bool SameAddress(IPAddress a, IPAddress b) =>
        (a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Equals(b.IsIPv4MappedToIPv6 ? b.MapToIPv4() : b);

    private sealed record OptionSet
    {
        public PcpResultCode Error { get; init; }
        public IPAddress? ThirdParty { get; init; }
        public bool PreferFailure { get; init; }
        public IReadOnlyList<PcpFilter>? Filters { get; init; }
    }
}
