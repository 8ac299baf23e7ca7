using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// A PCP datagram at the gateway: the RFC 6887 validation order, then the whole server minus its socket. Asserts:
/// what parses is a version-2 request of the client's own address; a parsed MAP request re-parses the same when our
/// client writes it; every answer is a PCP response (R bit, multiple of 4, at most 1100 bytes) with the parser's error
/// code, and our client reads the answer to a MAP request as the answer to it (nonce, protocol, internal port).
/// </summary>
internal sealed class PcpRequestTarget : ServerRequestTarget<PcpParseResult>
{
    public override string Name => "pcp-request";

    protected override PcpParseResult Parse(ReadOnlySpan<byte> input, out bool dropped)
    {
        var parsed = PcpRequestParser.Parse(input, Client);
        dropped = parsed.Status == PcpParseStatus.Dropped;
        if (parsed.Status == PcpParseStatus.Valid)
        {
            Accept();
            CheckValid(input, parsed.Request!);
        }
        return parsed;
    }

    protected override bool IsThisProtocol(ReadOnlySpan<byte> input) => input.Length == 0 || input[0] != 0;

    protected override void CheckAnswer(ReadOnlySpan<byte> input, PcpParseResult parsed, ReadOnlySpan<byte> response)
    {
        var length = response.Length;
        Check.That(length >= PcpMessages.HeaderSize && length <= PcpMessages.MaxMessageSize && length % 4 == 0, "a response is 24 to 1100 bytes, a multiple of 4");
        Check.That(response[0] == PcpMessages.Version && (response[1] & PcpMessages.ResponseFlag) != 0, "a response is version 2 with the R bit");
        Check.That(response[1] == ((input[1] & 0x7f) | PcpMessages.ResponseFlag), "a response answers the request's opcode");
        if (parsed.Status == PcpParseStatus.Error)
        {
            Check.That(response[3] == (byte)parsed.Error, "an error response carries the parser's code");
            return;
        }

        var request = parsed.Request!;
        if (request.Opcode == PcpOpcode.Announce)
        {
            Check.That(PcpClientCodec.TryReadAnnounce(response, out var epoch) && epoch == Authority.EpochSeconds, "the client reads the ANNOUNCE answer and its epoch");
            return;
        }
        if (request.Opcode == PcpOpcode.Peer)
        {
            // PEER: the 80-byte answer for the peer data as asked, success or not (RFC 6887 §12.2, §8.3).
            Check.That(length == PcpMessages.PeerResponseSize || response[3] != (byte)PcpResultCode.Success, "a PEER grant is 80 bytes");
            Check.That(response[3] != (byte)PcpResultCode.Success || Authority.LastResult is null || Authority.LastResult.Status == MapStatus.Success,
                "a PEER success answers a granted policy call");
            return;
        }
        var map = request.Map!;
        if (map.Protocol is not ((byte)MappingProtocol.Tcp or (byte)MappingProtocol.Udp))
            return;
        Check.That(PcpClientCodec.TryReadMapResponse(response, map.Nonce.Span, (MappingProtocol)map.Protocol, map.InternalPort, out var answer),
            "the client reads the answer to its own MAP request");
        CheckMapOutcome(answer, request.RequestedLifetime != 0 && request.Filters.Count == 0,
            granted => answer.ExternalPort == granted.ExternalPort && ScriptedAuthority.PublicAddress.Equals(answer.ExternalAddress),
            "a grant carries the policy's port and address");
    }

    private static void CheckValid(ReadOnlySpan<byte> input, PcpRequest request)
    {
        Check.That(input[0] == PcpMessages.Version && input.Length >= PcpMessages.HeaderSize && input.Length <= PcpMessages.MaxMessageSize
            && input.Length % 4 == 0, "a valid request is version 2, 24 to 1100 bytes, a multiple of 4");
        Check.That(Client.Equals(request.ClientAddress), "a valid request names its source as the client");
        Check.That(request.Opcode is PcpOpcode.Announce or PcpOpcode.Map or PcpOpcode.Peer, "only ANNOUNCE, MAP and PEER are valid");
        Check.That((request.Peer is null) == (request.Opcode != PcpOpcode.Peer), "PEER, and only PEER, has PEER data");
        if (request.Opcode == PcpOpcode.Peer)
            return;
        Check.That((request.Map is null) == (request.Opcode == PcpOpcode.Announce), "MAP, and only MAP, has MAP data");
        if (request.Map is not { } map)
            return;
        Check.That(map.Nonce.Length == PcpMessages.NonceSize, "the nonce is 12 bytes");
        Check.That(!request.PreferFailure || map.SuggestedExternalPort != 0, "PREFER_FAILURE comes with a suggested port");

        var written = new byte[PcpMessages.MapResponseSize];
        PcpClientCodec.WriteMapRequest(written, map.Nonce.Span, (MappingProtocol)map.Protocol, map.InternalPort, map.SuggestedExternalPort,
            request.RequestedLifetime, Client);
        var again = PcpRequestParser.Parse(written, Client);
        Check.That(again.Status == PcpParseStatus.Valid, "what the client writes for a valid request is valid");
        var other = again.Request!.Map!;
        Check.That(other.Nonce.Span.SequenceEqual(map.Nonce.Span) && other.Protocol == map.Protocol && other.InternalPort == map.InternalPort
            && other.SuggestedExternalPort == map.SuggestedExternalPort && again.Request.RequestedLifetime == request.RequestedLifetime,
            "and re-parses to the same MAP fields");
    }
}
