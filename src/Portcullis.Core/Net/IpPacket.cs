namespace Portcullis.Core.Net;

/// <summary>
/// Reads the addresses of a raw IPv4 or IPv6 packet (as it comes from a TUN device or out of a
/// decrypted transport message) without copying, for cryptokey routing. Only the version nibble and
/// the fixed header length are checked; anything shorter or of another version is refused.
/// </summary>
public static class IpPacket
{
    public const int IPv4HeaderMinLength = 20;
    public const int IPv6HeaderLength = 40;

    private const int IPv4SourceOffset = 12;
    private const int IPv4DestinationOffset = 16;
    private const int IPv6SourceOffset = 8;
    private const int IPv6DestinationOffset = 24;

    /// <summary>The 4- or 16-byte destination address of <paramref name="ipPacket"/>.</summary>
    public static bool TryGetDestination(ReadOnlySpan<byte> ipPacket, out ReadOnlySpan<byte> address) =>
        TryGetAddress(ipPacket, IPv4DestinationOffset, IPv6DestinationOffset, out address);

    /// <summary>The 4- or 16-byte source address of <paramref name="ipPacket"/>.</summary>
    public static bool TryGetSource(ReadOnlySpan<byte> ipPacket, out ReadOnlySpan<byte> address) =>
        TryGetAddress(ipPacket, IPv4SourceOffset, IPv6SourceOffset, out address);

    /// <summary>4 or 6, or 0 when the packet is empty or of another version.</summary>
    public static int Version(ReadOnlySpan<byte> ipPacket) =>
        ipPacket.IsEmpty ? 0 : (ipPacket[0] >> 4) switch
        {
            4 => 4,
            6 => 6,
            _ => 0,
        };

    private static bool TryGetAddress(ReadOnlySpan<byte> ipPacket, int v4Offset, int v6Offset, out ReadOnlySpan<byte> address)
    {
        switch (Version(ipPacket))
        {
            case 4 when ipPacket.Length >= IPv4HeaderMinLength:
                address = ipPacket.Slice(v4Offset, 4);
                return true;
            case 6 when ipPacket.Length >= IPv6HeaderLength:
                address = ipPacket.Slice(v6Offset, 16);
                return true;
            default:
                address = default;
                return false;
        }
    }
}
