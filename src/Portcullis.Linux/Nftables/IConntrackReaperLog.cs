namespace Portcullis.Linux.Nftables;

/// <summary>What <see cref="ConntrackReaper"/> reports, for the owner to log and count (counts only: no address, no port).</summary>
public interface IConntrackReaperLog
{
    /// <summary>The event groups could not be joined; every cleanup uses a table dump (off the caller's thread still).</summary>
    void EventsUnavailable(string reason);

    /// <summary>Events were lost (the socket overflowed); the index was rebuilt from a dump holding <paramref name="flows"/>.</summary>
    void EventsOverrun(int flows);

    /// <summary>Rebuilding the index from a dump failed; cleanups use dumps until a rebuild succeeds.</summary>
    void RebuildFailed(string error);

    /// <summary>Flows of <paramref name="destinations"/> removed destinations ended: from the index, or by a table dump.</summary>
    void Ended(int destinations, int flows, bool byDump);

    /// <summary>A one-time notice from the dump path (the kernel cannot filter dumps: whole-table dumps from now on).</summary>
    void DumpNotice(string message);

    /// <summary>A cleanup failed; those flows end when conntrack times them out.</summary>
    void Failed(string error);
}
