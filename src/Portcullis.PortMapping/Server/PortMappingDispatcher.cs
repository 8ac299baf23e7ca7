using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.PortMapping.NatPmp;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// One datagram in, at most one response out, no sockets — the whole server minus its transport, so tests can
/// drive it byte for byte. Dispatch is by the version byte: 0 → NAT-PMP; anything else → PCP, whose parser answers
/// versions other than 2 with UNSUPP_VERSION naming version 2, the highest we speak (RFC 6887 §9). With PCP turned
/// off, every non-zero version gets the NAT-PMP "unsupported version" answer instead (RFC 6886 §3.5).
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
        var length = datagram[0] == NatPmpMessages.Version || !_options.EnablePcp
            ? _natPmp.Handle(datagram, source, response)
            : _pcp.Handle(datagram, source, response);
        if (length > 0)
            _counters.Answers.Count(response[..length]);
        return length;
    }
}
