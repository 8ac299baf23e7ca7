using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// One datagram in, at most one response out, no sockets — the whole server minus its transport, so tests can
/// drive it byte for byte. Dispatch is by the version byte: 0 → NAT-PMP; anything else → PCP, whose parser answers
/// versions other than 2 with UNSUPP_VERSION naming version 2, the highest we speak (RFC 6887 §9). With PCP turned
/// off, every non-zero version gets the NAT-PMP "unsupported version" answer instead (RFC 6886 §3.5). NAT-PMP from
/// an IPv6 source is dropped: the protocol has no IPv6.
/// </summary>
internal sealed class PortMappingDispatcher
{
    /// <summary>Large enough for any response we write (a PCP error echoes at most 1100 bytes).</summary>
    public const int MaxResponseSize = 1100;

    private readonly PortMappingServerOptions _options;
    private readonly PortMappingCounters _counters;
    private readonly ILogger _logger;
    private readonly NatPmpFrontEnd _natPmp;
    private readonly PcpFrontEnd _pcp;

    public PortMappingDispatcher(IPortMappingAuthority authority, PortMappingServerOptions options, PortMappingCounters counters, ILogger logger)
    {
        _options = options;
        _counters = counters;
        _logger = logger;
        Authority = new GuardedAuthority(authority, counters, logger);
        _natPmp = new NatPmpFrontEnd(Authority, options, counters, logger);
        _pcp = new PcpFrontEnd(Authority, options, counters, logger);
    }

    public GuardedAuthority Authority { get; }

    /// <summary>Handles one datagram from <paramref name="source"/>; returns the response length, 0 for none.</summary>
    public int Handle(ReadOnlySpan<byte> datagram, IPAddress source, Span<byte> response)
    {
        _counters.OnReceived();
        if (source.IsIPv4MappedToIPv6)
            source = source.MapToIPv4();
        if (datagram.Length < 2)
        {
            _counters.OnMalformed();
            _counters.OnDropped();
            _logger.Dropped("NAT-PMP/PCP", datagram.Length);
            return 0;
        }
        var natPmp = datagram[0] == NatPmpMessages.Version || !_options.EnablePcp;
        if (natPmp && source.AddressFamily == AddressFamily.InterNetworkV6)
        {
            // NAT-PMP has no IPv6 (RFC 6886): its answers carry IPv4 only, so a mapping made for an IPv6 client
            // could not be told. Dropped and counted, like any datagram this server cannot make sense of.
            _counters.OnMalformed();
            _counters.OnDropped();
            _logger.Dropped("NAT-PMP over IPv6", datagram.Length);
            return 0;
        }
        var length = natPmp
            ? _natPmp.Handle(datagram, source, response)
            : _pcp.Handle(datagram, source, response);
        if (length > 0)
            _counters.Answers.Count(response[..length]);
        return length;
    }
}
