using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// A set key or map value as nf_tables holds it: typed fields concatenated, each padded to whole 4-byte registers
/// (what nft does for <c>ipv4_addr . inet_proto . inet_service</c>: 4 + 1→4 + 2→4 = 12 bytes). Addresses and ports are
/// network order, the padding zero — the kernel compares elements byte for byte, so an element written here equals one
/// nft wrote. A value type of at most 64 bytes (NFT_DATA_VALUE_MAXLEN): building one allocates nothing.
/// <code>var key = NftConcat.Empty.Ipv4(address).Protocol(6).Service(port);</code>
/// </summary>
public struct NftConcat
{
    /// <summary>NFT_DATA_VALUE_MAXLEN: the longest key or value the kernel takes.</summary>
    public const int MaxLength = 64;

    private Bytes _bytes;
    private int _length;

    public static NftConcat Empty => default;

    /// <summary>Bytes written so far (a multiple of 4).</summary>
    public readonly int Length => _length;

    /// <summary>ipv4_addr: 4 bytes.</summary>
    public readonly NftConcat Ipv4(IPAddress address) => Address(address, AddressFamily.InterNetwork, 4);

    /// <summary>ipv6_addr: 16 bytes.</summary>
    public readonly NftConcat Ipv6(IPAddress address) => Address(address, AddressFamily.InterNetworkV6, 16);

    /// <summary>inet_proto (6 tcp, 17 udp): 1 byte in a 4-byte register.</summary>
    public readonly NftConcat Protocol(byte protocol)
    {
        var copy = this;
        Span<byte> all = copy._bytes;
        all[copy.Field(4)] = protocol;
        return copy;
    }

    /// <summary>inet_service (a port): 2 bytes big-endian in a 4-byte register.</summary>
    public readonly NftConcat Service(ushort port)
    {
        var copy = this;
        Span<byte> all = copy._bytes;
        BinaryPrimitives.WriteUInt16BigEndian(all[copy.Field(4)..], port);
        return copy;
    }

    /// <summary>
    /// An address as its network-order bytes, 4 (ipv4_addr) or 16 (ipv6_addr): an interval's last address is computed
    /// as bytes, and an IPAddress for it would be an allocation per element.
    /// </summary>
    public readonly NftConcat AddressBytes(ReadOnlySpan<byte> address)
    {
        if (address.Length is not (4 or 16))
            throw new ArgumentException($"an address is 4 or 16 bytes, not {address.Length}", nameof(address));
        var copy = this;
        Span<byte> all = copy._bytes;
        address.CopyTo(all.Slice(copy.Field(address.Length), address.Length));
        return copy;
    }

    internal readonly void CopyTo(Span<byte> destination)
    {
        ReadOnlySpan<byte> all = _bytes;
        all[.._length].CopyTo(destination);
    }

    private readonly NftConcat Address(IPAddress address, AddressFamily family, int size)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily != family)
            throw new ArgumentException($"expected an {family} address, got {address}", nameof(address));
        var copy = this;
        Span<byte> all = copy._bytes;
        address.TryWriteBytes(all.Slice(copy.Field(size), size), out _);
        return copy;
    }

    // Claims the next register-aligned field of size bytes (the padding stays zero: bytes are never reused) and returns
    // where it starts.
    private int Field(int size)
    {
        var padded = (size + 3) & ~3;
        if (_length + padded > MaxLength)
            throw new InvalidOperationException($"an nf_tables key or value holds at most {MaxLength} bytes");
        var start = _length;
        _length += padded;
        return start;
    }

    [InlineArray(MaxLength)]
    private struct Bytes
    {
        private byte _first;
    }
}
