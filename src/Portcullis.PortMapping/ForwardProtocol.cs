namespace Portcullis.PortMapping;

/// <summary>
/// What a forward asks for — one transport protocol or both — as a client's <c>--forward</c>, a config's
/// <c>[[peer.forward]]</c> or an operator's <c>forward add</c> names it. A mapping itself is always one
/// <see cref="MappingProtocol"/>; a forward for both is two mappings (<see cref="ForwardProtocols.Mappings"/>).
/// </summary>
public enum ForwardProtocol
{
    Tcp,
    Udp,
    Both,
}

/// <summary>The one spelling of <see cref="ForwardProtocol"/> in text, and the mappings it stands for.</summary>
public static class ForwardProtocols
{
    private static readonly MappingProtocol[] TcpOnly = [MappingProtocol.Tcp];
    private static readonly MappingProtocol[] UdpOnly = [MappingProtocol.Udp];
    private static readonly MappingProtocol[] TcpAndUdp = [MappingProtocol.Tcp, MappingProtocol.Udp];

    /// <summary>The mappings a forward of this protocol is made of: TCP, UDP, or TCP then UDP.</summary>
    public static IReadOnlyList<MappingProtocol> Mappings(this ForwardProtocol protocol) => protocol switch
    {
        ForwardProtocol.Tcp => TcpOnly,
        ForwardProtocol.Udp => UdpOnly,
        _ => TcpAndUdp,
    };

    /// <summary>Whether a forward of this protocol includes mappings of <paramref name="mapping"/>.</summary>
    public static bool Includes(this ForwardProtocol protocol, MappingProtocol mapping) =>
        protocol == ForwardProtocol.Both || (protocol == ForwardProtocol.Tcp) == (mapping == MappingProtocol.Tcp);

    /// <summary>"tcp", "udp" or "both", in any case; false for anything else.</summary>
    public static bool TryParse(string? text, out ForwardProtocol protocol)
    {
        switch (text?.ToLowerInvariant())
        {
            case "tcp": protocol = ForwardProtocol.Tcp; return true;
            case "udp": protocol = ForwardProtocol.Udp; return true;
            case "both": protocol = ForwardProtocol.Both; return true;
            default: protocol = default; return false;
        }
    }

    /// <summary>"tcp", "udp" or "both".</summary>
    public static string Name(this ForwardProtocol protocol) => protocol switch
    {
        ForwardProtocol.Tcp => "tcp",
        ForwardProtocol.Udp => "udp",
        _ => "both",
    };
}
