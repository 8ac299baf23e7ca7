using System.Globalization;

namespace Portcullis.Client.PortForwarding;

public enum ForwardProtocol
{
    Tcp,
    Udp,
    Both,
}

/// <summary>
/// <c>--forward tcp|udp|both[:INTERNAL_PORT]</c>: which protocol to ask the gateway for, and the local port the
/// mapping points at. Without a port the external port the gateway picks is used internally too.
/// </summary>
public sealed record ForwardRequest(ForwardProtocol Protocol, ushort? InternalPort)
{
    public static bool TryParse(string text, out ForwardRequest? request, out string error)
    {
        ArgumentNullException.ThrowIfNull(text);
        request = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? text : text[..colon];
        ForwardProtocol protocol;
        switch (name.ToLowerInvariant())
        {
            case "tcp": protocol = ForwardProtocol.Tcp; break;
            case "udp": protocol = ForwardProtocol.Udp; break;
            case "both": protocol = ForwardProtocol.Both; break;
            default:
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
        request = new ForwardRequest(protocol, port);
        error = string.Empty;
        return true;
    }

    public override string ToString() =>
        Protocol.ToString().ToLowerInvariant() + (InternalPort is ushort p ? ":" + p.ToString(CultureInfo.InvariantCulture) : "");
}
