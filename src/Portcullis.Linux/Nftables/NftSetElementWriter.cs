using System.Buffers.Binary;
using System.Text;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;

namespace Portcullis.Linux.Nftables;

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
}
