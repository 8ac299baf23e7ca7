using Portcullis.Linux.Links;

namespace Portcullis.Fuzz.Targets.Netlink;

/// <summary>
/// A buffer read from an rtnetlink socket while the gateway or client waits for the acknowledgement of its request
/// (sequence 0x2a): the NLMSG_ERROR search and the extended-ack message text. Asserts: no exception; an answer is
/// found only inside the buffer, and its text is no longer than the buffer.
/// </summary>
internal sealed class RtNetlinkAckTarget : FuzzTarget
{
    public const uint Sequence = 0x2a;

    public override string Name => "rtnetlink-ack";


    public override void Run(ReadOnlySpan<byte> input)
    {
        if (!NetlinkSocket.FindAck(input, Sequence, out var error, out var text))
        {
            Check.That(error == 0 && text is null, "no answer, no error");
            return;
        }
        Accept();
        Check.That(input.Length >= 20, "an answer holds a header and an error code");
        Check.That(text is null || text.Length <= input.Length, "the kernel's message comes from the buffer");
    }
}
