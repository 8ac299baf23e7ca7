using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>How every store writes addresses and protocols as text, so text equality is equality in both.</summary>
internal static class StoreText
{
    /// <summary>IPv4 dotted quad, IPv6 compressed: one text per address.</summary>
    public static string Of(IPAddress address) =>
        (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString();

    public static string Of(MappingProtocol protocol) => protocol switch
    {
        MappingProtocol.Tcp => "tcp",
        MappingProtocol.Udp => "udp",
        _ => throw new ArgumentOutOfRangeException(nameof(protocol), protocol, "expected tcp or udp"),
    };

    public static MappingProtocol Protocol(string text, string table) => text switch
    {
        "tcp" => MappingProtocol.Tcp,
        "udp" => MappingProtocol.Udp,
        _ => throw new FormatException($"protocol '{text}' in {table}"),
    };
}
