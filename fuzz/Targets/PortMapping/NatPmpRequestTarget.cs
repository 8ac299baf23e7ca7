using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// A NAT-PMP datagram at the gateway: parse, then the whole server minus its socket. Asserts: a parsed map request is
/// what our client would have written; every answer is a NAT-PMP response our client reads back as the answer to that
/// very request, with the port the policy gave.
/// </summary>
internal sealed class NatPmpRequestTarget : ServerRequestTarget<(NatPmpParseStatus Status, NatPmpRequest Request)>
{
    public override string Name => "natpmp-request";

    protected override (NatPmpParseStatus Status, NatPmpRequest Request) Parse(ReadOnlySpan<byte> input, out bool dropped)
    {
        var status = NatPmpRequest.Parse(input, out var request);
        dropped = status == NatPmpParseStatus.Dropped;
        if (status == NatPmpParseStatus.Request)
        {
            Accept();
            Check.That(input[0] == 0 && (input.Length == 2 || input.Length == 12), "a request is version 0 and 2 or 12 bytes");
            if (request.IsMap)
            {
                var written = new byte[NatPmpMessages.MapRequestSize];
                NatPmpClientCodec.WriteMapRequest(written, request.Protocol, request.InternalPort, request.SuggestedExternalPort, request.RequestedLifetime);
                Check.That(WireGuard.WireGuardFixture.SameExcept(written, input, 2, 4), "a parsed map request is what the client writes for its fields (reserved bits aside)");
            }
        }
        return (status, request);
    }

    protected override bool IsThisProtocol(ReadOnlySpan<byte> input) => input.Length == 0 || input[0] == NatPmpMessages.Version;

    protected override void CheckAnswer(ReadOnlySpan<byte> input, (NatPmpParseStatus Status, NatPmpRequest Request) parsed, ReadOnlySpan<byte> response)
    {
        Check.That(response.Length >= NatPmpMessages.ErrorResponseSize && response.Length <= NatPmpMessages.MaxEchoSize, "a response is 8 to 1100 bytes");
        Check.That(response[0] == 0 && (response[1] & NatPmpMessages.ResponseFlag) != 0, "a response is version 0 with the response bit");

        var (status, request) = parsed;
        if (status != NatPmpParseStatus.Request)
            return;
        if (!request.IsMap)
        {
            Check.That(NatPmpClientCodec.TryReadPublicAddress(response, out var epoch, out var address), "the client reads the public address answer");
            Check.That(epoch == Authority.EpochSeconds && ScriptedAuthority.PublicAddress.Equals(address), "with the epoch and the address");
            return;
        }
        Check.That(NatPmpClientCodec.TryReadMapResponse(response, request.Protocol, request.InternalPort, out var answer),
            "the client reads the answer to its own map request");
        CheckMapOutcome(answer, request.RequestedLifetime != 0,
            granted => answer.ExternalPort == granted.ExternalPort && answer.LifetimeSeconds == (uint)granted.Lifetime.TotalSeconds,
            "a grant carries the policy's port and lifetime");
    }
}
