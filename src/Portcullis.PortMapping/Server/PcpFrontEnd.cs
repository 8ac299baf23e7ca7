using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// PCP request → policy call → response, for one datagram:
///   1. parse and validate (<see cref="PcpRequestParser"/>): drop, or an error response built from the raw request
///   2. ANNOUNCE → success with the epoch; MAP → Map (with nonce, suggestion, PREFER_FAILURE), delete (lifetime 0),
///      or DeleteAll (internal port 0, or protocol 0 for both protocols, with lifetime 0)
///   3. success → the 60-byte MAP response; refusal → the error response with the request's MAP data copied
/// </summary>
internal sealed class PcpFrontEnd(GuardedAuthority authority, PortMappingServerOptions options, PortMappingCounters counters, ILogger logger)
{
    private const string Via = "PCP";
    private const byte ProtocolAll = 0;

    public int Handle(ReadOnlySpan<byte> datagram, IPAddress client, Span<byte> response)
    {
        var parsed = PcpRequestParser.Parse(datagram, client);
        switch (parsed.Status)
        {
            case PcpParseStatus.Dropped:
                counters.OnMalformed();
                counters.OnDropped();
                logger.Dropped(Via, datagram.Length);
                return 0;
            case PcpParseStatus.Error:
                if (parsed.Error == PcpResultCode.NotAuthorized)
                    counters.OnRefused(); // THIRD_PARTY for someone else: well-formed, not allowed
                else
                    counters.OnMalformed();
                logger.Rejected(Via, (int)parsed.Error);
                return PcpResponse.WriteError(response, datagram, parsed.Error, authority.EpochSeconds);
        }

        counters.OnPcpRequest();
        var request = parsed.Request!;
        if (request.Opcode == PcpOpcode.Announce)
            return PcpResponse.WriteAnnounce(response, authority.EpochSeconds);

        var map = request.Map!;
        var (code, result) = Map(request, map, client);
        if (code != PcpResultCode.Success)
        {
            counters.OnRefused();
            return PcpResponse.WriteError(response, datagram, code, authority.EpochSeconds);
        }
        counters.OnGranted();
        var lifetime = request.RequestedLifetime == 0 ? 0 : MapStatusCodes.Seconds(result!.Lifetime);
        return PcpResponse.WriteMap(response, map, lifetime, authority.EpochSeconds,
            result?.ExternalPort ?? 0, result?.ExternalAddress);
    }

    private (PcpResultCode Code, MapResult? Result) Map(PcpRequest request, PcpMapData map, IPAddress client)
    {
        // FILTER asks that only given remote peers may use the mapping. The policy layer and the kernel map key on
        // the public port alone, so a filter cannot be honoured; saying success would promise a protection that is
        // not there. UNSUPP_OPTION tells the client exactly that (RFC 6887 §13.3 filters are mandatory to process).
        if (request.Filters.Count > 0)
            return (PcpResultCode.UnsupportedOption, null);

        var isDelete = request.RequestedLifetime == 0;
        if (map.Protocol == ProtocolAll)
        {
            if (!isDelete)
                return (PcpResultCode.UnsupportedProtocol, null);
            var tcp = authority.DeleteAll(client, MappingProtocol.Tcp, map.Nonce);
            var udp = authority.DeleteAll(client, MappingProtocol.Udp, map.Nonce);
            var failed = tcp.Status != MapStatus.Success ? tcp : udp;
            if (failed.Status == MapStatus.Success && options.AuditLog)
            {
                logger.AuditDeleted(Via, MappingProtocol.Tcp, client, 0);
                logger.AuditDeleted(Via, MappingProtocol.Udp, client, 0);
            }
            return (MapStatusCodes.ToPcp(failed.Status), null);
        }
        if (map.Protocol is not ((byte)MappingProtocol.Tcp or (byte)MappingProtocol.Udp))
            return (PcpResultCode.UnsupportedProtocol, null);

        var protocol = (MappingProtocol)map.Protocol;
        if (map.InternalPort == 0)
        {
            if (!isDelete)
                return (PcpResultCode.NotAuthorized, null); // "all ports" is no mapping a shared gateway gives one client
            var all = authority.DeleteAll(client, protocol, map.Nonce);
            if (all.Status == MapStatus.Success && options.AuditLog)
                logger.AuditDeleted(Via, protocol, client, 0);
            return (MapStatusCodes.ToPcp(all.Status), null);
        }

        var result = authority.Map(new MapRequest
        {
            Client = client,
            Protocol = protocol,
            InternalPort = map.InternalPort,
            Lifetime = TimeSpan.FromSeconds(request.RequestedLifetime),
            SuggestedExternalPort = isDelete ? (ushort)0 : map.SuggestedExternalPort,
            SuggestedExternalAddress = isDelete ? null : map.SuggestedExternalAddress,
            PreferFailure = request.PreferFailure && !isDelete,
            Nonce = map.Nonce,
        });
        if (result.Status == MapStatus.Success && options.AuditLog)
        {
            if (isDelete)
                logger.AuditDeleted(Via, protocol, client, map.InternalPort);
            else
                logger.AuditMapped(Via, protocol, result.ExternalAddress, result.ExternalPort, client, map.InternalPort, MapStatusCodes.Seconds(result.Lifetime));
        }
        return (MapStatusCodes.ToPcp(result.Status), result);
    }
}
