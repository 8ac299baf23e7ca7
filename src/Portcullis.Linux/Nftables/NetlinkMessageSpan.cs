using System.Buffers.Binary;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// The netlink messages of a received buffer (header included), walked in place: what
/// <see cref="CtNetlinkMessages.Split"/> returns as a list, without allocating one per read (the answer paths of the
/// element writer and of exact deletes run per update). Stops at a malformed length.
/// </summary>
internal readonly ref struct NetlinkMessageSpan(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public Enumerator GetEnumerator() => new(_data);

    public ref struct Enumerator(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _next;

        public (int Offset, int Length, ushort Type, uint Sequence) Current { get; private set; }

        public bool MoveNext()
        {
            if (_data.Length - _next < CtNetlinkMessages.HeaderLength)
                return false;
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(_data[_next..]);
            if (length < CtNetlinkMessages.HeaderLength || length > _data.Length - _next)
                return false;
            Current = (_next, length, BinaryPrimitives.ReadUInt16LittleEndian(_data[(_next + 4)..]),
                BinaryPrimitives.ReadUInt32LittleEndian(_data[(_next + 8)..]));
            _next += CtNetlinkMessages.Align(length);
            return true;
        }
    }
}
