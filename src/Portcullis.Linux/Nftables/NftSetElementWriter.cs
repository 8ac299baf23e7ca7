using System.Buffers.Binary;
using System.Text;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Nftables;

/// <summary>What a run of elements does to its set: NFT_MSG_NEWSETELEM (as <c>nft add element</c>: an element that exists
/// with the same value is no error, one with another value is) or NFT_MSG_DELSETELEM (an absent element is an error).</summary>
public enum NftElementVerb
{
    Add,
    Delete,
}

/// <summary>nf_tables address families (NFPROTO_*), as in <c>table ip …</c>.</summary>
public enum NftFamily : byte
{
    Inet = 1,
    Ip = 2,
    Ip6 = 10,
}

/// <summary>
/// Writes set and map elements to nf_tables over netlink, without libnftables' text parser, as one transaction:
/// <list type="number">
/// <item><see cref="Begin"/> starts a batch (NFNL_MSG_BATCH_BEGIN);</item>
/// <item><see cref="Open"/> starts a run of adds or deletes on one set of one table (a NEWSETELEM or DELSETELEM message,
/// split by itself when its element list nears the 64 KiB an attribute can hold);</item>
/// <item><see cref="Element"/> appends one element: key, map value, timeout, comment (NFTNL_UDATA_SET_ELEM_COMMENT
/// userdata, so <c>nft list</c> shows it as nft's own);</item>
/// <item><see cref="Commit"/> ends the batch (NFNL_MSG_BATCH_END), sends it in one datagram and reads the kernel's
/// answer to every message (each asks for an ACK). nfnetlink processes the batch inside the send and aborts all of it
/// when any message fails, so a failure anywhere leaves the kernel as before, and surfaces as
/// <see cref="NftBatchException"/> with the errno, the kernel's text and the failing element's tag.</item>
/// </list>
/// One buffer is reused from batch to batch (it only grows), so steady writing allocates nothing per element.
/// Namespace: the socket is opened in the constructor and so acts on the network namespace of the constructing
/// thread, the rule of <see cref="NftContext"/> and <see cref="Conntrack"/>. Not thread-safe: one writer at a time.
/// </summary>
public sealed unsafe partial class NftSetElementWriter : IDisposable
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private const int SolSocket = 1;
    private const int SoSndBuf = 7;
    private const int SoRcvTimeo = 20;
    private const int SoSndBufForce = 32;
    private const int MsgDontWait = 0x40;
    private const int HeaderLength = CtNetlinkMessages.HeaderLength + CtNetlinkMessages.NfGenLength;

    // linux/netfilter/nfnetlink.h and nf_tables.h.
    private const ushort BatchBegin = 0x10;                     // NFNL_MSG_BATCH_BEGIN (NLMSG_MIN_TYPE)
    private const ushort BatchEnd = 0x11;                       // NFNL_MSG_BATCH_END
    private const ushort SubsystemNftables = 10;                // NFNL_SUBSYS_NFTABLES
    private const ushort NewSetElement = (SubsystemNftables << 8) | 12; // NFT_MSG_NEWSETELEM
    private const ushort DeleteSetElement = (SubsystemNftables << 8) | 14; // NFT_MSG_DELSETELEM
    private const ushort ListTable = 1;                         // NFTA_SET_ELEM_LIST_TABLE
    private const ushort ListSet = 2;                           // NFTA_SET_ELEM_LIST_SET
    private const ushort ListElements = 3;                      // NFTA_SET_ELEM_LIST_ELEMENTS
    private const ushort ListElement = 1;                       // NFTA_LIST_ELEM
    private const ushort ElementKey = 1;                        // NFTA_SET_ELEM_KEY
    private const ushort ElementData = 2;                       // NFTA_SET_ELEM_DATA
    private const ushort ElementTimeout = 4;                    // NFTA_SET_ELEM_TIMEOUT (be64, ms)
    private const ushort ElementUserData = 6;                   // NFTA_SET_ELEM_USERDATA
    private const ushort ElementKeyEnd = 10;                    // NFTA_SET_ELEM_KEY_END (a range's last key)
    private const ushort DataValue = 1;                         // NFTA_DATA_VALUE
    private const byte UserDataComment = 0;                     // NFTNL_UDATA_SET_ELEM_COMMENT (libnftnl udata.h)
    private const ushort FlagRequest = 0x1;
    private const ushort FlagAck = 0x4;
    private const ushort FlagCreate = 0x400;
    private const ushort ErrorAttributeOffset = 2;              // NLMSGERR_ATTR_OFFS

    /// <summary>Longest comment nft accepts (NFT_USERDATA_MAXLEN 256 less the TLV header and the NUL).</summary>
    public const int MaxCommentBytes = 128;

    // An element list is one attribute (16-bit length): a message is closed and a new one opened before it can overflow.
    private const int MaxElementsPerMessage = ushort.MaxValue - 1024;
    private const int MaxElementSize = 4 + (8 + NftConcat.MaxLength) * 3 + 12 + 8 + MaxCommentBytes + 8;

    private byte[] _buffer = new byte[64 * 1024];
    private readonly byte[] _receive = new byte[64 * 1024];
    private int _fd;
    private int _length;
    private uint _sequence = (uint)Environment.TickCount;
    private uint _beginSequence;

    // The open message: where it starts, where its element list starts, and what it writes to.
    private int _message = -1;
    private int _elements;
    private NftElementVerb _verb;
    private NftFamily _family;
    private string _table = string.Empty;
    private string _set = string.Empty;

    // Per message and per element of the batch, reused: to name the element an error's offset points into.
    private Messages _messages = new(8);
    private Elements _written = new(256);

    public NftSetElementWriter()
    {
        _fd = Libc.Socket(RtNetlink.AfNetlink, SockRaw | SockCloexec, CtNetlinkMessages.NetlinkNetfilter);
        if (_fd < 0)
            throw Errno.LastFailure("open nf_tables netlink socket");
        var one = 1;
        // Capped acks (no copy of our message per ACK) and extended acks (the kernel's text, the failing attribute's offset).
        _ = Libc.SetSockOpt(_fd, RtNetlink.SolNetlink, RtNetlink.NetlinkCapAck, &one, sizeof(int));
        _ = Libc.SetSockOpt(_fd, RtNetlink.SolNetlink, RtNetlink.NetlinkExtAck, &one, sizeof(int));
        // A batch is one datagram: above the send buffer it would be refused (EMSGSIZE). FORCE passes wmem_max as root.
        var size = 4 * 1024 * 1024;
        if (Libc.SetSockOpt(_fd, SolSocket, SoSndBufForce, &size, sizeof(int)) < 0)
            _ = Libc.SetSockOpt(_fd, SolSocket, SoSndBuf, &size, sizeof(int));
        var timeout = stackalloc long[2] { 5, 0 }; // a kernel that never answers must not hang the caller
        if (Libc.SetSockOpt(_fd, SolSocket, SoRcvTimeo, timeout, 16) < 0)
        {
            var failure = Errno.LastFailure("set nf_tables netlink receive timeout");
            Libc.Close(_fd);
            throw failure;
        }
    }

    /// <summary>Starts a batch, dropping whatever an unfinished one held.</summary>
    public void Begin()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        _length = 0;
        _message = -1;
        _messages.Count = 0;
        _written.Count = 0;
        _beginSequence = ++_sequence;
        WriteHeader(BatchBegin, FlagRequest, _beginSequence, family: 0, resourceId: SubsystemNftables);
    }

    /// <summary>Starts a run of <paramref name="verb"/> on set (or map) <paramref name="set"/> of table <paramref name="table"/>.</summary>
    public void Open(NftElementVerb verb, NftFamily family, string table, string set)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentException.ThrowIfNullOrEmpty(set);
        if (_length == 0)
            throw new InvalidOperationException("Begin a batch first");
        CloseMessage();
        _verb = verb;
        _family = family;
        _table = table;
        _set = set;
        OpenMessage();
    }

    /// <summary>
    /// Appends one element to the open run. <paramref name="data"/> is the map value (empty for a set or a delete),
    /// <paramref name="timeout"/> the element's own timeout (rounded up to whole milliseconds; null: none, or the set's
    /// default), <paramref name="comment"/> its comment (null: none). <paramref name="tag"/> comes back in the
    /// <see cref="NftBatchException"/> when the kernel names this element as the failing one.
    /// </summary>
    public void Element(in NftConcat key, in NftConcat data, TimeSpan? timeout, string? comment, int tag) =>
        Write(key, NftConcat.Empty, data, timeout, comment, tag);

    /// <summary>
    /// Adds a range element to the open run, for a set with <c>flags interval</c> over a concatenation: every key from
    /// <paramref name="first"/> to <paramref name="last"/> field by field (a prefix is its first and last address, a
    /// single value is the same in both), as nft writes <c>10.0.0.0/8 . 0-65535</c>. The rest as
    /// <see cref="Element"/>.
    /// </summary>
    public void Range(in NftConcat first, in NftConcat last, TimeSpan? timeout, string? comment, int tag)
    {
        if (last.Length != first.Length)
            throw new ArgumentException("a range's first and last key have the same fields", nameof(last));
        Write(first, last, NftConcat.Empty, timeout, comment, tag);
    }

    private void Write(in NftConcat key, in NftConcat keyEnd, in NftConcat data, TimeSpan? timeout, string? comment, int tag)
    {
        if (_message < 0)
            throw new InvalidOperationException("Open a run of elements first");
        if (key.Length == 0)
            throw new ArgumentException("an element needs a key", nameof(key));
        var commentBytes = comment is null ? 0 : Encoding.UTF8.GetByteCount(comment);
        if (commentBytes > MaxCommentBytes)
            throw new ArgumentException($"an element comment holds at most {MaxCommentBytes} bytes", nameof(comment));
        if (comment is not null && comment.Contains('\0', StringComparison.Ordinal))
            throw new ArgumentException("an element comment must not contain NUL", nameof(comment));
        if (timeout is { } t && t <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(timeout), "an element timeout is positive");
        if (_length - _elements > MaxElementsPerMessage)
        {
            CloseMessage();
            OpenMessage();
        }
        Reserve(MaxElementSize);

        var start = _length;
        var element = CtNetlinkMessages.Open(_buffer, ref _length, ListElement);
        var keyNest = CtNetlinkMessages.Open(_buffer, ref _length, ElementKey);
        key.CopyTo(CtNetlinkMessages.Put(_buffer, ref _length, DataValue, key.Length));
        CtNetlinkMessages.Close(_buffer, keyNest, _length);
        if (keyEnd.Length > 0)
        {
            var endNest = CtNetlinkMessages.Open(_buffer, ref _length, ElementKeyEnd);
            keyEnd.CopyTo(CtNetlinkMessages.Put(_buffer, ref _length, DataValue, keyEnd.Length));
            CtNetlinkMessages.Close(_buffer, endNest, _length);
        }
        if (data.Length > 0)
        {
            var dataNest = CtNetlinkMessages.Open(_buffer, ref _length, ElementData);
            data.CopyTo(CtNetlinkMessages.Put(_buffer, ref _length, DataValue, data.Length));
            CtNetlinkMessages.Close(_buffer, dataNest, _length);
        }
        if (timeout is { } lease)
        {
            var milliseconds = (ulong)Math.Ceiling(lease.TotalMilliseconds);
            BinaryPrimitives.WriteUInt64BigEndian(CtNetlinkMessages.Put(_buffer, ref _length, ElementTimeout, 8), milliseconds);
        }
        if (comment is not null)
        {
            // libnftnl userdata: a list of (type u8, length u8, value) — the comment's value is NUL-terminated.
            var user = CtNetlinkMessages.Put(_buffer, ref _length, ElementUserData, 2 + commentBytes + 1);
            user[0] = UserDataComment;
            user[1] = (byte)(commentBytes + 1);
            Encoding.UTF8.GetBytes(comment, user[2..]);
            user[^1] = 0;
        }
        CtNetlinkMessages.Close(_buffer, element, _length);
        _written.Add(start, _length, tag);
    }

    /// <summary>
    /// Sends the batch and waits for the kernel's verdict on every message. Returns once the kernel committed all of it;
    /// throws <see cref="NftBatchException"/> (the kernel then holds its state from before) or
    /// <see cref="LinuxCallException"/> (the socket failed: whether the batch was applied is not known). A batch with
    /// no element is not sent.
    /// </summary>
    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        if (_length == 0)
            throw new InvalidOperationException("Begin a batch first");
        CloseMessage();
        if (_messages.Count == 0)
        {
            _length = 0;
            return;
        }
        Reserve(HeaderLength);
        WriteHeader(BatchEnd, FlagRequest, ++_sequence, family: 0, resourceId: SubsystemNftables);
        Send();
        var failure = AwaitAnswers();
        _length = 0;
        if (failure is not null)
            throw failure;
    }

    public void Dispose()
    {
        if (_fd < 0)
            return;
        Libc.Close(_fd);
        _fd = -1;
    }

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

    private void Send()
    {
        nint sent;
        fixed (byte* b = _buffer)
        {
            do
                sent = Libc.Send(_fd, b, (nuint)_length, 0);
            while (sent < 0 && Errno.Last == Errno.EINTR);
        }
        if (sent < 0)
            throw Errno.LastFailure("send nf_tables batch");
    }

    // Reads answers until every message's ACK is in or an error came; then drains what is left, so no answer of this
    // batch is read as the next one's. nfnetlink answers inside the send: nothing is waited for on a live kernel.
    private NftBatchException? AwaitAnswers()
    {
        NftBatchException? failure = null;
        var acknowledged = 0;
        var flags = 0;
        while (true)
        {
            nint received;
            fixed (byte* b = _receive)
            {
                do
                    received = Libc.Recv(_fd, b, (nuint)_receive.Length, flags);
                while (received < 0 && Errno.Last == Errno.EINTR);
            }
            if (received < 0)
            {
                if (flags != 0 && Errno.Last == Errno.EAGAIN)
                    return failure;
                throw Errno.LastFailure("read the answer to an nf_tables batch");
            }
            acknowledged += ReadAnswers(_receive.AsSpan(0, (int)received), ref failure);
            if (failure is not null || acknowledged >= _messages.Count)
                flags = MsgDontWait;
        }
    }

    private int ReadAnswers(ReadOnlySpan<byte> data, ref NftBatchException? failure)
    {
        var acknowledged = 0;
        foreach (var (offset, length, type, sequence) in CtNetlinkMessages.Split(data))
        {
            if (type != CtNetlinkMessages.NlmsgError)
                continue;
            var message = data.Slice(offset, length);
            var error = CtNetlinkMessages.ErrorOf(message);
            var index = _messages.IndexOf(sequence);
            if (index >= 0 && error == 0)
                acknowledged++;
            if (error != 0 && failure is null)
                failure = Failure(message, index, error);
        }
        return acknowledged;
    }

    private NftBatchException Failure(ReadOnlySpan<byte> message, int index, int error)
    {
        var (text, attributeOffset) = NetlinkErrors.Read(message);
        var what = new StringBuilder("nf_tables refused the batch");
        var tag = -1;
        if (index >= 0)
        {
            var m = _messages[index];
            var verb = m.Verb == NftElementVerb.Add ? "add" : "delete";
            what.Append($" ({verb} element {Family(m.Family)} {m.Table} {m.Set}");
            var element = attributeOffset >= 0 ? _written.Containing(m.Start + attributeOffset) : -1;
            if (element >= 0)
                tag = _written.Tag(element);
            what.Append(')');
        }
        what.Append($": {Errno.Describe(error)} (errno {error})");
        if (text is not null)
            what.Append($": {text}");
        return new NftBatchException(what.ToString(), error, tag);
    }

    private static string Family(NftFamily family) => family switch
    {
        NftFamily.Ip => "ip",
        NftFamily.Ip6 => "ip6",
        NftFamily.Inet => "inet",
        _ => family.ToString(),
    };
}
