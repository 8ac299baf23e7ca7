using Portcullis.Core.Io;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Udp;

// The send half of LinuxBind: sendmmsg through a pooled native batch, runs of equal-sized datagrams as UDP GSO
// messages while the kernel takes them.
public sealed unsafe partial class LinuxBind
{
    public int Send(ReadOnlySpan<ArraySegment<byte>> packets, UdpEndpoint destination)
    {
        if (packets.IsEmpty || Volatile.Read(ref _closed) != 0)
            return 0;
        var added = false;
        try
        {
            _fd.DangerousAddRef(ref added);
            var batch = _send.Rent(out var slot);
            try
            {
                SockAddrIn6.Write(batch.SharedAddress, destination);
                var sent = 0;
                for (var start = 0; start < packets.Length; start += batch.Capacity)
                {
                    var chunk = packets.Slice(start, Math.Min(batch.Capacity, packets.Length - start));
                    var result = SendChunk(batch, chunk);
                    if (result < 0)
                        return sent;
                    sent += result;
                }
                return sent;
            }
            finally
            {
                _send.Return(slot);
            }
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        finally
        {
            if (added)
                _fd.DangerousRelease();
        }
    }

    /// <summary>Sends one chunk; the count sent, or -1 if the bind closed while waiting for room.</summary>
    private int SendChunk(MessageBatch batch, ReadOnlySpan<ArraySegment<byte>> chunk)
    {
        try
        {
            for (var i = 0; i < chunk.Length; i++)
                batch.Set(i, chunk[i]);
            var grouped = chunk.Length > 1 && Segmentation;
            var messages = grouped ? batch.Coalesce(chunk.Length, MaxSegments, MaxSegmentBytes) : chunk.Length;
            var sent = 0;
            var next = 0;
            while (next < messages)
            {
                var n = Libc.SendMMsg(_fd.Fd, batch.Messages + next, (uint)(messages - next), 0);
                if (n > 0)
                {
                    for (var k = next; k < next + n; k++)
                    {
                        var datagrams = grouped ? batch.DatagramsOf(k) : 1;
                        sent += datagrams;
                        if (datagrams > 1)
                            Interlocked.Increment(ref _segmentedSends);
                    }
                    next += n;
                    continue;
                }
                var errno = n < 0 ? Errno.Last : Errno.EAGAIN;
                if (errno == Errno.EINTR)
                    continue;
                if (errno == Errno.EAGAIN)
                {
                    if (!_fd.WaitWritable())
                        return -1;
                    continue;
                }
                if (grouped && batch.DatagramsOf(next) > 1 && errno is Eio or Einval)
                {
                    // EIO: the route's device cannot checksum for GSO, so no GSO at all from now on. EINVAL: this run
                    // cannot be one (a segment larger than the path allows, which alone would be fragmented).
                    if (errno == Eio && Interlocked.Exchange(ref _segmentation, 0) != 0)
                    {
                        Volatile.Write(ref _segmentationRefusal, errno);
                        _offloadRefused?.Invoke($"UDP GSO refused by the kernel (errno {errno}); sending datagrams one by one");
                    }
                    Interlocked.Increment(ref _segmentationFallbacks);
                    var first = batch.FirstDatagramOf(next);
                    messages = batch.Separate(first, chunk.Length - first);
                    grouped = false;
                    next = 0;
                    continue;
                }
                // The first remaining message was refused (EMSGSIZE, unreachable, EPERM, ...): skip it.
                Interlocked.Add(ref _sendDrops, grouped ? batch.DatagramsOf(next) : 1);
                next++;
            }
            return sent;
        }
        finally
        {
            batch.Unpin();
        }
    }
}
