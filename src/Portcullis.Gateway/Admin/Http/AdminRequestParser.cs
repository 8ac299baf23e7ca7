using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// Turns what a request says (bodies, route values) into the contract's types, or throws
/// <see cref="AdminRequestException"/> with the reason (HTTP 400). Strict on purpose: IPAddress.Parse takes "10.1"
/// and "167772161" for 10.0.0.1, which an operator never means, so only dotted quads and IPv6 text pass.
/// </summary>
internal static class AdminRequestParser
{
    public static PeerRequest Peer(AddPeerBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        return new PeerRequest
        {
            Name = PeerName(body.Name),
            PublicKey = body.PublicKey is null ? null : PublicKey(body.PublicKey),
            TunnelAddress = body.TunnelAddress is null ? null : Address(body.TunnelAddress, "tunnel_address"),
            DedicatedAddress = body.DedicatedAddress is null ? null : Address(body.DedicatedAddress, "dedicated_address"),
            DedicatedAddress6 = body.DedicatedAddress6 is null ? null : Address(body.DedicatedAddress6, "dedicated_address6"),
        };
    }

    public static ForwardRequest Forward(AddForwardBody body)
    {
        ArgumentNullException.ThrowIfNull(body);
        if (string.IsNullOrWhiteSpace(body.Peer))
            throw new AdminRequestException("peer: expected a peer's id or name.");
        return new ForwardRequest
        {
            Peer = body.Peer,
            Protocol = Protocol(body.Protocol, "protocol"),
            ExternalPort = Port(body.ExternalPort, "external_port"),
            InternalPort = body.InternalPort is { } internalPort ? Port(internalPort, "internal_port") : null,
            PublicAddress = body.PublicAddress is null ? null : Address(body.PublicAddress, "public_address"),
        };
    }

    public static ServerPolicy Policy(PolicyOverridesModel body)
    {
        ArgumentNullException.ThrowIfNull(body);
        PortRange? range = null;
        if (body.PortRange is { } r)
        {
            var first = Port(r.First, "port_range.first");
            var last = Port(r.Last, "port_range.last");
            if (first > last)
                throw new AdminRequestException($"port_range: first ({first}) must not be above last ({last}).");
            range = new PortRange(first, last);
        }
        if (body.MaxPerPeer is < 0)
            throw new AdminRequestException($"max_per_peer: {body.MaxPerPeer} is negative; expected 0 or more.");
        return new ServerPolicy
        {
            ForwardingEnabled = body.ForwardingEnabled,
            PortRange = range,
            MaxPerPeer = body.MaxPerPeer,
            ForwardAllDedicatedPorts = body.ForwardAllDedicatedPorts,
            MaxFiltersPerMapping = body.MaxFiltersPerMapping is null or (>= 0 and <= ForwardingPolicy.MaxFiltersPerMappingLimit)
                ? body.MaxFiltersPerMapping
                : throw new AdminRequestException(
                    $"max_filters_per_mapping: {body.MaxFiltersPerMapping} is out of range; expected 0 (no filtered mappings) to {ForwardingPolicy.MaxFiltersPerMappingLimit} (as many FILTER options as fit in one PCP request)."),
            InboundNewPerSecond = Limit(body.InboundNewPerSecond, "inbound_new_per_second"),
            InboundMaxConnections = Limit(body.InboundMaxConnections, "inbound_max_connections"),
        };
    }

    private static int? Limit(int? value, string field) => value is null or (>= 0 and <= InboundLimits.Max)
        ? value
        : throw new AdminRequestException($"{field}: {value} is out of range; expected 0 (no limit) to {InboundLimits.Max}.");

    /// <summary>A forward's or mapping's key from the route: ADDRESS / tcp|udp / PORT.</summary>
    public static (IPAddress Address, MappingProtocol Protocol, ushort Port) Key(string address, string protocol, string port)
    {
        var named = Protocol(protocol, "protocol");
        if (named == ForwardProtocol.Both)
            throw new AdminRequestException("protocol: expected tcp or udp; a forward or mapping has one protocol.");
        var parsedProtocol = named.Mappings()[0];
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            throw new AdminRequestException($"port: \"{Shorten(port)}\" is not a number; expected 1-65535.");
        return (Address(address, "address"), parsedProtocol, Port(number, "port"));
    }

    /// <summary>"ADDRESS:PORT" (an IPv6 address in brackets) from the <c>public</c> query parameter.</summary>
    public static (IPAddress Address, ushort Port) PublicEndpoint(string? text)
    {
        if (string.IsNullOrEmpty(text))
            throw new AdminRequestException("public: missing; expected ADDRESS:PORT, e.g. 198.51.100.10:31337.");
        var colon = text.LastIndexOf(':');
        if (colon <= 0)
            throw new AdminRequestException($"public: \"{Shorten(text)}\" is not ADDRESS:PORT; expected e.g. 198.51.100.10:31337.");
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
            host = host[1..^1];
        var portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            throw new AdminRequestException($"public: port \"{Shorten(portText)}\" is not a number; expected 1-65535.");
        return (Address(host, "public"), Port(port, "public"));
    }

    /// <summary>An RFC 3339 / ISO 8601 time; without an offset it is UTC.</summary>
    public static DateTimeOffset Time(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
            throw new AdminRequestException($"{field}: missing; expected an RFC 3339 time, e.g. 2026-12-07T14:00:00Z.");
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out var time)
            || text.Length < 10 || !char.IsAsciiDigit(text[0]))
            throw new AdminRequestException($"{field}: \"{Shorten(text)}\" is not a time; expected RFC 3339, e.g. 2026-12-07T14:00:00Z.");
        return time;
    }

    public static IPAddress Address(string text, string field)
    {
        if (text is not null && IsStrictAddress(text) && IPAddress.TryParse(text, out var address))
            return address;
        throw new AdminRequestException($"{field}: \"{Shorten(text)}\" is not an IP address; expected e.g. 10.99.0.2.");
    }

    public static ushort Port(int value, string field) => value is >= 1 and <= 65535
        ? (ushort)value
        : throw new AdminRequestException($"{field}: {value} is out of range; expected 1-65535.");

    /// <summary>tcp, udp or both.</summary>
    public static ForwardProtocol Protocol(string text, string field) => ForwardProtocols.TryParse(text, out var protocol)
        ? protocol
        : throw new AdminRequestException($"{field}: \"{Shorten(text)}\" is not a protocol; expected tcp, udp or both.");

    private static string PeerName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64)
            throw new AdminRequestException("name: expected 1-64 characters.");
        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                throw new AdminRequestException($"name: \"{Shorten(name)}\" may hold only letters, digits, '.', '_' and '-'.");
        }
        return name;
    }

    private static string PublicKey(string text)
    {
        Span<byte> key = stackalloc byte[33];
        if (!Convert.TryFromBase64String(text, key, out var length) || length != 32)
            throw new AdminRequestException("public_key: expected a WireGuard public key (32 bytes in base64, as wg prints it).");
        return text;
    }

    private static bool IsStrictAddress(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal))
            return IPAddress.TryParse(text, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 && !text.Contains('%', StringComparison.Ordinal);
        var parts = 0;
        foreach (var part in text.Split('.'))
        {
            parts++;
            if (part.Length is 0 or > 3 || !int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var octet) || octet > 255)
                return false;
        }
        return parts == 4;
    }

    // Reasons quote what was sent, cut short: a reason is for a person, and a megabyte echoed back helps no one.
    private static string Shorten(string? text) => text is null ? "" : text.Length <= 64 ? text : text[..64] + "…";
}
