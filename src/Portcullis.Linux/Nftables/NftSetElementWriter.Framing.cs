using System.Buffers.Binary;
using System.Text;

namespace Portcullis.Linux.Nftables;

// Framing the batch in the reused buffer: nfnetlink headers, one element message per run (taken back out when it got
// no element), the table and set names.
public sealed partial class NftSetElementWriter
{
    private void OpenMessage()
    {
        Reserve(HeaderLength + 2 * (4 + 256) + 4);
        var sequence = ++_sequence;
        _message = _length;
        var (type, flags) = _verb == NftElementVerb.Add
            ? (NewSetElement, (ushort)(FlagRequest | FlagAck | FlagCreate))
            : (DeleteSetElement, (ushort)(FlagRequest | FlagAck));
        WriteHeader(type, flags, sequence, (byte)_family, resourceId: 0);
        PutString(ListTable, _table);
        PutString(ListSet, _set);
        _elements = CtNetlinkMessages.Open(_buffer, ref _length, ListElements);
        _messages.Add(_message, sequence, _verb, _family, _table, _set);
    }

    // Ends the open message; one that got no element is taken back out (the kernel refuses an empty list).
    private void CloseMessage()
    {
        if (_message < 0)
            return;
        if (_length == _elements + 4)
        {
            _length = _message;
            _messages.Count--;
        }
        else
        {
            CtNetlinkMessages.Close(_buffer, _elements, _length);
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_message), (uint)(_length - _message));
            _messages.End(_length);
        }
        _message = -1;
    }

    private void WriteHeader(ushort type, ushort flags, uint sequence, byte family, ushort resourceId)
    {
        var header = _buffer.AsSpan(_length, HeaderLength);
        BinaryPrimitives.WriteUInt32LittleEndian(header, HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], type);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], flags);
        BinaryPrimitives.WriteUInt32LittleEndian(header[8..], sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(header[12..], 0); // port id: the kernel's
        header[16] = family;
        header[17] = 0; // NFNETLINK_V0
        BinaryPrimitives.WriteUInt16BigEndian(header[18..], resourceId);
        _length += HeaderLength;
    }

    private void PutString(ushort type, string value)
    {
        var bytes = Encoding.UTF8.GetByteCount(value);
        if (bytes > 255)
            throw new ArgumentException("nf_tables names hold at most 255 bytes", nameof(value));
        var payload = CtNetlinkMessages.Put(_buffer, ref _length, type, bytes + 1);
        Encoding.UTF8.GetBytes(value, payload);
        payload[bytes] = 0;
    }

    private void Reserve(int more)
    {
        if (_length + more <= _buffer.Length)
            return;
        Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + more));
    }
}
