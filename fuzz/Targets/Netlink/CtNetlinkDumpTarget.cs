using Portcullis.Linux.Nftables;

namespace Portcullis.Fuzz.Targets.Netlink;

/// <summary>
/// A buffer read from the ctnetlink socket during a conntrack dump, handled as Conntrack does: split into messages,
/// errors read, each entry's original destination and both sources read, and the delete request built for a kept
/// entry. Asserts: messages lie inside the buffer; a delete request is one whole message that reads back to the
/// entry's destination; a filtered dump request for that destination reads back to it too.
/// </summary>
internal sealed class CtNetlinkDumpTarget : FuzzTarget
{
    public override string Name => "ctnetlink-dump";


    public override void Run(ReadOnlySpan<byte> input)
    {
        var end = 0;
        foreach (var (offset, length, type, _) in CtNetlinkMessages.Split(input))
        {
            Check.That(offset >= end && length >= CtNetlinkMessages.HeaderLength && offset + length <= input.Length, "messages lie inside the buffer, in order");
            end = offset + length;
            var message = input.Slice(offset, length);
            if (type == CtNetlinkMessages.NlmsgError)
            {
                _ = CtNetlinkMessages.ErrorOf(message);
                continue;
            }
            if (type == CtNetlinkMessages.NlmsgDone)
                continue;
            _ = CtNetlinkMessages.TryReadSources(message, out _, out _);
            if (!CtNetlinkMessages.TryReadDestination(message, out var destination))
                continue;

            Accept();
            var delete = CtNetlinkMessages.DeleteRequest(message, 7);
            Check.That(delete is not null, "an entry with an original destination can be deleted");
            var parts = CtNetlinkMessages.Split(delete);
            Check.That(parts.Count == 1 && parts[0].Length == delete!.Length && parts[0].Type == CtNetlinkMessages.MessageDelete,
                "a delete request is one whole message");
            Check.That(CtNetlinkMessages.TryReadDestination(delete, out var deleted) && deleted == destination,
                "a delete request carries the entry's own tuple");

            foreach (var byPort in (ReadOnlySpan<bool>)[true, false])
            {
                var dump = CtNetlinkMessages.FilteredDumpRequest(destination, byPort, 8);
                Check.That(CtNetlinkMessages.TryReadDestination(dump, out var filtered) && filtered == destination,
                    "a filtered dump request carries the destination it filters on");
            }
        }
    }
}
