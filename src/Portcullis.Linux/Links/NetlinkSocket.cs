using System.Runtime.InteropServices;
using System.Text;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Links;

/// <summary>
/// Sends one rtnetlink request with NLM_F_ACK and waits for its acknowledgement:
/// open NETLINK_ROUTE socket (in the calling thread's namespace) → ask for extended acks → send →
/// read until the NLMSG_ERROR carrying our sequence number → error 0 returns, anything else throws with
/// the operation, the errno text and the kernel's own message when it gave one.
/// </summary>
internal static unsafe class NetlinkSocket
{
    private const int SockRaw = 3;
    private const int SockCloexec = 0x80000;
    private static int _sequence = Environment.TickCount;

    public static void Execute(NetlinkRequest request, string operation)
    {
        var fd = Libc.Socket(RtNetlink.AfNetlink, SockRaw | SockCloexec, RtNetlink.NetlinkRoute);
        if (fd < 0)
            throw Errno.LastFailure($"{operation} (netlink socket)");
        try
        {
            var one = 1;
            // Optional: older kernels lack them and then simply give no text.
            _ = Libc.SetSockOpt(fd, RtNetlink.SolNetlink, RtNetlink.NetlinkCapAck, &one, sizeof(int));
            _ = Libc.SetSockOpt(fd, RtNetlink.SolNetlink, RtNetlink.NetlinkExtAck, &one, sizeof(int));

            var sequence = (uint)Interlocked.Increment(ref _sequence);
            var message = request.Complete(sequence);
            fixed (byte* m = message)
            {
                nint sent;
                do
                    sent = Libc.Send(fd, m, (nuint)message.Length, 0);
                while (sent < 0 && Errno.Last == Errno.EINTR);
                if (sent < 0)
                    throw Errno.LastFailure($"{operation} (netlink send)");
            }
            AwaitAck(fd, sequence, operation);
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    private static void AwaitAck(int fd, uint sequence, string operation)
    {
        var buffer = new byte[32 * 1024];
        while (true)
        {
            nint received;
            fixed (byte* b = buffer)
            {
                do
                    received = Libc.Recv(fd, b, (nuint)buffer.Length, 0);
                while (received < 0 && Errno.Last == Errno.EINTR);
            }
            if (received < 0)
                throw Errno.LastFailure($"{operation} (netlink receive)");
            if (FindAck(buffer.AsSpan(0, (int)received), sequence, out var error, out var text))
            {
                if (error == 0)
                    return;
                throw text is null
                    ? new LinuxCallException(operation, -error)
                    : new LinuxCallException(operation, -error, text);
            }
        }
    }

    /// <summary>Finds the NLMSG_ERROR for <paramref name="sequence"/>; error is 0 for an ack, else -errno.</summary>
    internal static bool FindAck(ReadOnlySpan<byte> data, uint sequence, out int error, out string? text)
    {
        error = 0;
        text = null;
        var offset = 0;
        while (offset + RtNetlink.HeaderSize <= data.Length)
        {
            var header = data[offset..];
            var length = MemoryMarshal.Read<uint>(header);
            var type = MemoryMarshal.Read<ushort>(header[4..]);
            var flags = MemoryMarshal.Read<ushort>(header[6..]);
            var seq = MemoryMarshal.Read<uint>(header[8..]);
            if (length < RtNetlink.HeaderSize || length > header.Length)
                return false;
            var message = header[..(int)length];
            if (type == RtNetlink.NlmsgError && seq == sequence && message.Length >= RtNetlink.HeaderSize + 4)
            {
                error = MemoryMarshal.Read<int>(message[RtNetlink.HeaderSize..]);
                if ((flags & RtNetlink.FlagAckTlvs) != 0)
                    text = ReadErrorText(message, flags);
                return true;
            }
            offset += NetlinkRequest.Align((int)length);
        }
        return false;
    }

    private static string? ReadErrorText(ReadOnlySpan<byte> message, ushort flags)
    {
        // nlmsgerr = error + the request's header (+ its payload unless capped); the TLVs follow.
        var echoed = RtNetlink.HeaderSize;
        if ((flags & RtNetlink.FlagCapped) == 0 && message.Length >= RtNetlink.HeaderSize * 2 + 4)
        {
            // The echoed request's own length: one that does not fit in this message is no request (and, read as an
            // int, could move the offset before the message's start).
            var length = MemoryMarshal.Read<uint>(message[(RtNetlink.HeaderSize + 4)..]);
            if (length < RtNetlink.HeaderSize || length > (uint)(message.Length - RtNetlink.HeaderSize - 4))
                return null;
            echoed = (int)length;
        }
        var offset = RtNetlink.HeaderSize + 4 + NetlinkRequest.Align(echoed);
        while (offset + 4 <= message.Length)
        {
            var length = MemoryMarshal.Read<ushort>(message[offset..]);
            var type = MemoryMarshal.Read<ushort>(message[(offset + 2)..]);
            if (length < 4 || offset + length > message.Length)
                return null;
            if (type == RtNetlink.ErrorAttributeMessage)
            {
                var value = message.Slice(offset + 4, length - 4);
                var end = value.IndexOf((byte)0);
                return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
            }
            offset += NetlinkRequest.Align(length);
        }
        return null;
    }
}
