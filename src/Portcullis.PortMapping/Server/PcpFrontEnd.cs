using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// PCP request → policy call → response, for one datagram:
///   1. parse and validate (<see cref="PcpRequestParser"/>): drop, or an error response built from the raw request
///   2. ANNOUNCE → success with the epoch; PEER → Peer (the 80-byte PEER answer); MAP → Map (with nonce, suggestion, PREFER_FAILURE, FILTER), delete
///      (lifetime 0), or DeleteAll (internal port 0, or protocol 0 for both protocols, with lifetime 0)
///   3. success → the 60-byte MAP response, plus the request's FILTER options echoed when it had any; refusal → the
///      error response with the request's MAP data copied
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

        var request = parsed.Request!;
        counters.OnPcpRequest();
        if (request.Opcode == PcpOpcode.Announce)
            return PcpResponse.WriteAnnounce(response, authority.EpochSeconds);
        if (request.Opcode == PcpOpcode.Peer)
            return Peer(request, request.Peer!, client, datagram, response);

        var map = request.Map!;
        var (code, result) = Map(request, map, client);
        if (code != PcpResultCode.Success)
        {
            counters.OnRefused();
            return PcpResponse.WriteError(response, datagram, code, authority.EpochSeconds);
        }
        counters.OnGranted();
        var lifetime = request.RequestedLifetime == 0 ? 0 : MapStatusCodes.Seconds(result!.Lifetime);
        var echoed = request.RequestedLifetime == 0 ? null : request.Filters;
        return PcpResponse.WriteMap(response, map, lifetime, authority.EpochSeconds,
            result?.ExternalPort ?? 0, result?.ExternalAddress, echoed);
    }

    private (PcpResultCode Code, MapResult? Result) Map(PcpRequest request, PcpMapData map, IPAddress client)
    {
        var isDelete = request.RequestedLifetime == 0;
        // FILTER (RFC 6887 §13.3): only the named remote peers may use the mapping. The gateway translates no address
        // family into another, so a filter of the other family than the client's could never match: malformed.
        var filters = isDelete ? null : PcpFilterOption.ToRemote(request.Filters);
        if (filters is not null && !SameFamily(filters, client))
            return (PcpResultCode.MalformedOption, null);
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
            Filters = filters,
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

    /// <summary>
    /// PEER (RFC 6887 §12): an explicit outbound mapping for one flow; the answer names the address and port the flow
    /// leaves from. Lifetime 0 deletes it (answered with lifetime 0). The parser has refused zero fields already.
    /// </summary>
    private int Peer(PcpRequest request, PcpPeerData peer, IPAddress client, ReadOnlySpan<byte> datagram, Span<byte> response)
    {
        var map = peer.Mapping;
        var isDelete = request.RequestedLifetime == 0;
        var code = PcpResultCode.UnsupportedProtocol;
        MapResult? result = null;
        if (map.Protocol is (byte)MappingProtocol.Tcp or (byte)MappingProtocol.Udp)
        {
            result = authority.Peer(new PeerMappingRequest
            {
                Client = client,
                Protocol = (MappingProtocol)map.Protocol,
                InternalPort = map.InternalPort,
                RemoteAddress = peer.RemotePeerAddress,
                RemotePort = peer.RemotePeerPort,
                Lifetime = TimeSpan.FromSeconds(request.RequestedLifetime),
                SuggestedExternalPort = isDelete ? (ushort)0 : map.SuggestedExternalPort,
                SuggestedExternalAddress = isDelete ? null : map.SuggestedExternalAddress,
                Nonce = map.Nonce,
            });
            code = MapStatusCodes.ToPcp(result.Status);
        }
        if (code != PcpResultCode.Success)
        {
            counters.OnRefused();
            return PcpResponse.WriteError(response, datagram, code, authority.EpochSeconds);
        }
        counters.OnGranted();
        var lifetime = isDelete ? 0 : MapStatusCodes.Seconds(result!.Lifetime);
        return PcpResponse.WritePeer(response, peer, lifetime, authority.EpochSeconds, result!.ExternalPort, result.ExternalAddress);
    }

    private static bool SameFamily(IReadOnlyList<RemoteFilter> filters, IPAddress client)
    {
        var family = (client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client).AddressFamily;
        foreach (var filter in filters)
        {
            if (filter.Prefix.BaseAddress.AddressFamily != family)
                return false;
        }
        return true;
    }
}
