using System.Net;
using System.Runtime.InteropServices;

namespace Portcullis.Linux.Links;

/// <summary>
/// Builds one rtnetlink request: nlmsghdr, the family header (ifinfomsg, ifaddrmsg, rtmsg, fib_rule_hdr),
/// then 4-byte aligned attributes. Integers are host order, addresses network order, as the kernel expects.
/// </summary>
internal sealed class NetlinkRequest
{
    private readonly byte[] _buffer = new byte[512];
    private int _length = RtNetlink.HeaderSize;

    public NetlinkRequest(ushort type, ushort flags)
    {
        MemoryMarshal.Write(_buffer.AsSpan(4), in type);
        var all = (ushort)(flags | RtNetlink.FlagRequest | RtNetlink.FlagAck);
        MemoryMarshal.Write(_buffer.AsSpan(6), in all);
    }

    /// <summary>Appends a zeroed, aligned area of <paramref name="size"/> bytes for the caller to fill.</summary>
    public Span<byte> Append(int size)
    {
        var start = _length;
        _length = Align(start + size);
        if (_length > _buffer.Length)
            throw new InvalidOperationException("netlink request too large");
        return _buffer.AsSpan(start, size);
    }

    public void AddAttribute(ushort type, ReadOnlySpan<byte> value)
    {
        var area = Append(4 + value.Length);
        var length = (ushort)(4 + value.Length);
        MemoryMarshal.Write(area, in length);
        MemoryMarshal.Write(area[2..], in type);
        value.CopyTo(area[4..]);
    }

    public void AddUInt32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        MemoryMarshal.Write(bytes, in value);
        AddAttribute(type, bytes);
    }

    public void AddAddress(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        AddAttribute(type, bytes[..written]);
    }

    /// <summary>The finished message with its length and sequence number filled in.</summary>
    public ReadOnlySpan<byte> Complete(uint sequence)
    {
        var length = (uint)_length;
        MemoryMarshal.Write(_buffer, in length);
        MemoryMarshal.Write(_buffer.AsSpan(8), in sequence);
        return _buffer.AsSpan(0, _length);
    }

    public static int Align(int length) => (length + 3) & ~3;
}
