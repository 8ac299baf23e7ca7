using System.Globalization;
using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Client.PortForwarding;

/// <summary>
/// <c>--forward tcp|udp|both[:INTERNAL_PORT]</c>: which protocol to ask the gateway for, and the local port the
/// mapping points at. Without a port the external port the gateway picks is used internally too.
/// <c>--allow-from PREFIX</c> (repeatable) fills <see cref="AllowFrom"/>.
/// </summary>
public sealed record ForwardSpec(ForwardProtocol Protocol, ushort? InternalPort)
{
    /// <summary>
    /// The remote prefixes the mapping admits (PCP FILTER); empty (the default) admits everyone. Needs an internal
    /// port: only PCP carries filters, and a request without one goes over NAT-PMP.
    /// </summary>
    public IReadOnlyList<RemoteFilter> AllowFrom { get; init; } = [];

    /// <summary>
    /// One <c>--allow-from</c> value: an address (one host) or a prefix with no bits set past its length, so a typo
    /// such as 198.51.100.7/24 is not silently widened to the whole network.
    /// </summary>
    public static bool TryParseAllowFrom(string text, out RemoteFilter filter, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        filter = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (!IPAddress.TryParse(slash < 0 ? text : text[..slash], out var address))
        {
            error = $"'{text}': expected an IP address or a prefix such as 198.51.100.0/24";
            return false;
        }
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        var bits = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var length = bits;
        if (slash >= 0
            && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out length) || length < 1 || length > bits))
        {
            error = $"'{text}': the prefix length must be 1-{bits}";
            return false;
        }
        var prefix = RemoteFilter.Masked(address, length);
        if (!prefix.BaseAddress.Equals(address))
        {
            error = $"'{text}': bits are set past the prefix length; did you mean {prefix}?";
            return false;
        }
        filter = new RemoteFilter(prefix, 0);
        error = string.Empty;
        return true;
    }

    public static bool TryParse(string text, out ForwardSpec? request, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        request = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? text : text[..colon];
        if (!ForwardProtocols.TryParse(name, out var protocol))
        {
            error = $"'{text}': expected tcp, udp or both, optionally followed by :INTERNAL_PORT";
            return false;
        }
        ushort? port = null;
        if (colon >= 0)
        {
            if (!ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value == 0)
            {
                error = $"'{text}': the internal port must be 1-65535";
                return false;
            }
            port = value;
        }
        request = new ForwardSpec(protocol, port);
        error = string.Empty;
        return true;
    }

    public override string ToString() =>
        Protocol.Name() + (InternalPort is ushort p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "");
}
