using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

// Exact deletes and the dump that (re)builds a flow index: what ending flows from an index of events needs.
public sealed unsafe partial class Conntrack
{
    private const int DeletesPerSend = 256;
    private byte[]? _batch;

    /// <summary>
    /// Deletes exactly these flows (tuple, zone, id) and returns how many the kernel removed; one already gone is not an
    /// error. Deletes are sent in batches of <see cref="DeletesPerSend"/> and acknowledged each, so ending many flows
    /// costs a few system calls, not two per flow. Throws <see cref="LinuxCallException"/> when the kernel refuses one
    /// (after the rest of its batch was tried).
    /// </summary>
    public int DeleteExact(IReadOnlyList<TrackedFlow> flows)
    {
        ArgumentNullException.ThrowIfNull(flows);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            _batch ??= new byte[DeletesPerSend * CtNetlinkEvents.DeleteLength];
            var deleted = 0;
            for (var start = 0; start < flows.Count; start += DeletesPerSend)
            {
                var count = Math.Min(DeletesPerSend, flows.Count - start);
                var first = _sequence + 1;
                var length = 0;
                for (var i = 0; i < count; i++)
                    length += CtNetlinkEvents.WriteDelete(flows[start + i], ++_sequence, _batch.AsSpan(length));
                SendBatch(length);
                deleted += ReadAcks(first, count);
            }
            return deleted;
        }
    }

    /// <summary>
    /// Dumps the whole table (IPv4 and IPv6 entries: family AF_UNSPEC) into <paramref name="index"/> (which keeps the destination-NATed flows) and returns
    /// how many entries were read. One walk of every hash bucket: for a rebuild after lost events, not per mapping.
    /// </summary>
    public int DumpInto(ConntrackFlowIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_fd < 0, this);
            var sequence = ++_sequence;
            Send(CtNetlinkMessages.DumpRequest(sequence, CtNetlinkMessages.AfUnspec), "dump conntrack table");
            var read = 0;
            while (true)
            {
                var received = Receive("dump conntrack table");
                var data = _buffer.AsSpan(0, received);
                var offset = 0;
                while (data.Length - offset >= CtNetlinkMessages.HeaderLength)
                {
                    var length = (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(data[offset..]);
                    if (length < CtNetlinkMessages.HeaderLength || length > data.Length - offset)
                        break;
                    var message = data.Slice(offset, length);
                    offset += CtNetlinkMessages.Align(length);
                    if (System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(message[8..]) != sequence)
                        continue;
                    var type = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(message[4..]);
                    if (type == CtNetlinkMessages.NlmsgDone)
                        return read;
                    if (type == CtNetlinkMessages.NlmsgError)
                    {
                        var error = CtNetlinkMessages.ErrorOf(message);
                        if (error != 0)
                            throw Errno.Failure("dump conntrack table", error);
                        continue;
                    }
                    read++;
                    if (CtNetlinkEvents.TryRead(message, out var entry))
                        index.Add(entry.Flow);
                }
            }
        }
    }

    private void SendBatch(int length)
    {
        fixed (byte* m = _batch)
        {
            nint sent;
            do
                sent = Libc.Send(_fd, m, (nuint)length, 0);
            while (sent < 0 && Errno.Last == Errno.EINTR);
            if (sent < 0)
                throw Errno.LastFailure("delete conntrack entries (netlink send)");
        }
    }

    // Reads one ack per request of the batch (sequences first .. first + count - 1); returns how many succeeded.
    private int ReadAcks(uint first, int count)
    {
        var acked = 0;
        var deleted = 0;
        var failure = 0;
        while (acked < count)
        {
            var received = Receive("delete conntrack entries");
            foreach (var (offset, length, type, sequence) in new NetlinkMessageSpan(_buffer.AsSpan(0, received)))
            {
                if (type != CtNetlinkMessages.NlmsgError || sequence - first >= (uint)count)
                    continue;
                acked++;
                var error = CtNetlinkMessages.ErrorOf(_buffer.AsSpan(offset, length));
                if (error == 0)
                    deleted++;
                else if (error != Errno.ENOENT && failure == 0) // ENOENT: it ended by itself meanwhile
                    failure = error;
            }
        }
        return failure == 0 ? deleted : throw Errno.Failure("delete conntrack entry", failure);
    }
}
