using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Server;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// A NAT-PMP datagram at the gateway: parse, then the whole server minus its socket (dispatcher, front end, policy
/// call, response). Asserts: a parsed map request is what our client would have written; every answer is a NAT-PMP
/// response our client reads back as the answer to that very request, with the port the policy gave.
/// </summary>
internal sealed class NatPmpRequestTarget : FuzzTarget
{
    private static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");
    private readonly ScriptedAuthority _authority = new();
    private readonly PortMappingDispatcher _dispatcher;
    private readonly byte[] _response = new byte[PortMappingDispatcher.MaxResponseSize];

    public NatPmpRequestTarget()
    {
        var options = new PortMappingServerOptions { ListenAddress = IPAddress.Parse("10.99.0.1") };
        _dispatcher = new PortMappingDispatcher(_authority, options, new PortMappingCounters(), NullLogger.Instance);
    }

    public override string Name => "natpmp-request";


    public override void Run(ReadOnlySpan<byte> input)
    {
        _authority.Forget();
        var status = NatPmpRequest.Parse(input, out var request);
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

        if (input.Length > 0 && input[0] != NatPmpMessages.Version)
            return; // PCP's dispatch: the pcp-request target
        var length = _dispatcher.Handle(input, Client, _response);
        var response = _response.AsSpan(0, length);
        Check.That((length == 0) == (status == NatPmpParseStatus.Dropped), "exactly the dropped requests go unanswered");
        if (length == 0)
            return;
        Check.That(length >= NatPmpMessages.ErrorResponseSize && length <= NatPmpMessages.MaxEchoSize, "a response is 8 to 1100 bytes");
        Check.That(response[0] == 0 && (response[1] & NatPmpMessages.ResponseFlag) != 0, "a response is version 0 with the response bit");

        if (status != NatPmpParseStatus.Request)
            return;
        if (!request.IsMap)
        {
            Check.That(NatPmpClientCodec.TryReadPublicAddress(response, out var epoch, out var address), "the client reads the public address answer");
            Check.That(epoch == _authority.EpochSeconds && ScriptedAuthority.PublicAddress.Equals(address), "with the epoch and the address");
            return;
        }
        Check.That(NatPmpClientCodec.TryReadMapResponse(response, request.Protocol, request.InternalPort, out var answer),
            "the client reads the answer to its own map request");
        Check.That(answer.Epoch == _authority.EpochSeconds, "the answer carries the epoch");
        if (_authority.LastResult is { Status: MapStatus.Success } granted && request.RequestedLifetime != 0)
        {
            Check.That(answer.Outcome == MappingOutcome.Granted && answer.ExternalPort == granted.ExternalPort
                && answer.LifetimeSeconds == (uint)granted.Lifetime.TotalSeconds, "a grant carries the policy's port and lifetime");
        }
        else if (_authority.LastResult is { Status: not MapStatus.Success })
        {
            Check.That(answer.Outcome == MappingOutcome.Refused, "a refusal reads as one");
        }
    }
}
