using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Portcullis.Linux.Tun.Offload;

/// <summary>
/// The Internet checksum (RFC 1071): one's complement sum of 16-bit words. Sums are kept unfolded in a ulong so
/// pieces (pseudo-header, header, payload) add up before one fold at the end.
/// </summary>
internal static class InternetChecksum
{
    /// <summary>
    /// Adds <paramref name="data"/> to <paramref name="sum"/> (an unfolded, big-endian-word sum). Only the last piece
    /// of a checksummed range may have an odd length.
    /// </summary>
    public static ulong Add(ReadOnlySpan<byte> data, ulong sum)
    {
        // One's complement addition does not care about byte order (RFC 1071 2(B)): sum native 32-bit halves of
        // 64-bit words, which cannot overflow a ulong for any packet, and swap once at the end.
        ulong native = 0;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        foreach (var w in words)
            native += (w & 0xffffffff) + (w >> 32);
        var rest = data[(words.Length * 8)..];
        if (rest.Length >= 4)
        {
            native += MemoryMarshal.Read<uint>(rest);
            rest = rest[4..];
        }
        if (rest.Length >= 2)
        {
            native += MemoryMarshal.Read<ushort>(rest);
            rest = rest[2..];
        }
        if (rest.Length == 1)
            native += BitConverter.IsLittleEndian ? rest[0] : (ulong)rest[0] << 8;
        var folded = Fold(native);
        return sum + (BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(folded) : folded);
    }

    /// <summary>The pseudo-header sum for TCP or UDP (RFC 9293 3.1, RFC 8200 8.1), unfolded.</summary>
    public static ulong PseudoHeader(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, byte protocol, int length)
    {
        var sum = Add(source, 0);
        sum = Add(destination, sum);
        return sum + protocol + (ulong)length;
    }

    /// <summary>Folds a sum to 16 bits (not complemented).</summary>
    public static ushort Fold(ulong sum)
    {
        while (sum > 0xffff)
            sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The checksum field value for data whose sum (including the field) is <paramref name="sum"/>.</summary>
    public static ushort Complement(ulong sum) => (ushort)~Fold(sum);
}
