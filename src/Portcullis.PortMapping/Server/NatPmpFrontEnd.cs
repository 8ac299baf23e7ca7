using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// NAT-PMP request → policy call → response, for one datagram:
///   1. parse (drop, "unsupported version", "unsupported opcode", or a request)
///   2. opcode 0 → GetPublicAddress; opcode 1/2 → Map, or delete (lifetime 0; the suggested port is ignored, as
///      Transmission sends the old one), or DeleteAll (internal port 0 and lifetime 0). Internal port 0 with a
///      lifetime goes to the policy layer as it is: `natpmpc -a 0 0 tcp 60` (DESIGN §6, the VPN-provider convention)
///      asks for "a port, forwarded to the same port on me"; whether to give one is policy, not parsing.
///   3. the result in NAT-PMP codes, with the epoch read after the call so a reset shows at once
/// </summary>
internal sealed class NatPmpFrontEnd(GuardedAuthority authority, PortMappingServerOptions options, PortMappingCounters counters, ILogger logger)
{
    private const string Via = "NAT-PMP";

    public int Handle(ReadOnlySpan<byte> datagram, IPAddress client, Span<byte> response)
    {
        switch (NatPmpRequest.Parse(datagram, out var request))
        {
            case NatPmpParseStatus.Request:
                counters.OnNatPmpRequest();
                return request.IsMap ? Map(request, client, response) : PublicAddress(client, response);
            case NatPmpParseStatus.UnsupportedVersion:
                counters.OnMalformed();
                logger.Rejected(Via, (int)NatPmpResultCode.UnsupportedVersion);
                return NatPmpResponse.WriteUnsupportedVersion(response, authority.EpochSeconds);
            case NatPmpParseStatus.UnsupportedOpcode:
                counters.OnMalformed();
                logger.Rejected(Via, (int)NatPmpResultCode.UnsupportedOpcode);
                return NatPmpResponse.WriteUnsupportedOpcode(response, datagram, authority.EpochSeconds);
            default:
                counters.OnMalformed();
                counters.OnDropped();
                logger.Dropped(Via, datagram.Length);
                return 0;
        }
    }

    private int PublicAddress(IPAddress client, Span<byte> response)
    {
        var result = authority.GetPublicAddress(client);
        var code = MapStatusCodes.ToNatPmpPublicAddress(result);
        Count(code);
        return NatPmpResponse.WritePublicAddress(response, code, authority.EpochSeconds,
            code == NatPmpResultCode.Success ? result.ExternalAddress : null);
    }

    private int Map(NatPmpRequest request, IPAddress client, Span<byte> response)
    {
        var protocol = request.Protocol;
        MapResult result;
        if (request.RequestedLifetime == 0)
        {
            result = request.InternalPort == 0
                ? authority.DeleteAll(client, protocol)
                : authority.Map(new MapRequest { Client = client, Protocol = protocol, InternalPort = request.InternalPort, Lifetime = TimeSpan.Zero });
            if (result.Status == MapStatus.Success && options.AuditLog)
                logger.AuditDeleted(Via, protocol, client, request.InternalPort);
        }
        else
        {
            result = authority.Map(new MapRequest
            {
                Client = client,
                Protocol = protocol,
                InternalPort = request.InternalPort,
                Lifetime = TimeSpan.FromSeconds(request.RequestedLifetime),
                SuggestedExternalPort = request.SuggestedExternalPort,
            });
            if (result.Status == MapStatus.Success && options.AuditLog)
                logger.AuditMapped(Via, protocol, result.ExternalAddress, result.ExternalPort, client, request.InternalPort, MapStatusCodes.Seconds(result.Lifetime));
        }

        var code = MapStatusCodes.ToNatPmp(result.Status);
        Count(code);
        // Granted: the mapping. Deleted: port 0, lifetime 0. A refused delete: the mapping that still stands, as the
        // policy layer reports it (RFC 6886 §3.4). A refused map: nothing.
        var isDelete = request.RequestedLifetime == 0;
        var reportMapping = (code == NatPmpResultCode.Success) != isDelete;
        var externalPort = reportMapping ? result.ExternalPort : (ushort)0;
        var lifetime = reportMapping ? MapStatusCodes.Seconds(result.Lifetime) : 0;
        return NatPmpResponse.WriteMap(response, request.Opcode, code, authority.EpochSeconds, request.InternalPort, externalPort, lifetime);
    }

    private void Count(NatPmpResultCode code)
    {
        if (code == NatPmpResultCode.Success)
            counters.OnGranted();
        else
            counters.OnRefused();
    }
}
