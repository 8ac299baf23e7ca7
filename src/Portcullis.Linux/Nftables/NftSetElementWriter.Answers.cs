using System.Text;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Nftables;

// Sending a batch and reading the kernel's answers: one ACK per message, or the first error, matched to the message
// (by sequence) and the element (by the failing attribute's offset) it names.
public sealed unsafe partial class NftSetElementWriter
{
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
        foreach (var (offset, length, type, sequence) in new NetlinkMessageSpan(data))
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
