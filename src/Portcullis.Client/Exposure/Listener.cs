using System.Net;

namespace Portcullis.Client.Exposure;

public enum ListenerProtocol
{
    Tcp,
    Udp,
}

/// <summary>A local socket bound to a port: a listening TCP socket or any bound UDP socket.</summary>
public sealed record Listener(ListenerProtocol Protocol, IPAddress Address, ushort Port)
{
    public override string ToString() =>
        $"{Protocol.ToString().ToLowerInvariant()} {(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address.ToString())}:{Port}";
}
