using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// The one writer of the forwarding table for the service's mappings: every transaction is all or nothing, and a
/// refused one is logged (and audited when the policy says so) and reported to the caller, whose state then stays as
/// it was. When one transaction carried several independent changes (a batch of requests, the pending removals), a
/// refusal is retried one change at a time, so only a change the kernel refuses fails. Owns no state of its own; not
/// thread-safe: the service's lock guards it (the table is not thread-safe either).
/// </summary>
internal sealed class TableWriter(IForwardingTable table, ILogger logger, Func<bool> auditLog)
{
    // A batch's entries, reused from one batch to the next (the table reads them during the update only).
    private readonly List<ForwardingEntry> _remove = [];
    private readonly List<ForwardingEntry> _add = [];

    /// <summary>All or nothing; throws <see cref="ForwardingTableException"/> when the kernel refuses.</summary>
    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add) => table.Update(remove, add);

    /// <summary>Dedicated routes and the ports "every port" leaves alone; throws <see cref="ForwardingTableException"/> when the kernel refuses.</summary>
    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excluded) => table.SetDedicated(routes, excluded);

    /// <summary>One transaction; false (logged) when the kernel refused it.</summary>
    public bool TryUpdate(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add, string operation)
    {
        try
        {
            table.Update(remove, add);
            return true;
        }
        catch (ForwardingTableException e)
        {
            ReportFailure(operation, e);
            return false;
        }
    }

    public void ReportFailure(string operation, ForwardingTableException e)
    {
        ForwardingLog.TableFailed(logger, operation, e.GetType().Name);
        if (auditLog())
            ForwardingLog.AuditTableError(logger, operation, e.Message);
    }

    /// <summary>
    /// Applies every change in one transaction, and tells <paramref name="done"/> which the kernel took: all of them,
    /// or after a refusal, each tried alone (its refusal logged), in order.
    /// </summary>
    public void ApplyAll<T>(List<(T Item, MapChange Change)> changes, Action<T, MapChange, bool> done)
    {
        if (changes.Count == 1)
        {
            var (item, change) = changes[0];
            done(item, change, TryUpdate(change.Remove, change.Add, change.Operation));
            return;
        }
        var remove = _remove;
        var add = _add;
        remove.Clear();
        add.Clear();
        foreach (var (_, change) in changes)
        {
            remove.AddRange(change.Remove);
            add.AddRange(change.Add);
        }
        var together = true;
        try
        {
            table.Update(remove, add);
        }
        catch (ForwardingTableException)
        {
            // One bad element fails the whole transaction: try each change alone, so only its own fails.
            together = false;
        }
        foreach (var (item, change) in changes)
            done(item, change, together || TryUpdate(change.Remove, change.Add, change.Operation));
    }

    /// <summary>
    /// Removes <paramref name="entries"/> together, or after a refusal each alone, quietly (the caller counts what is
    /// left); <paramref name="removed"/> hears of each entry the kernel no longer holds.
    /// </summary>
    public void RemoveEach(List<ForwardingEntry> entries, Action<ForwardingEntry> removed)
    {
        try
        {
            table.Update(entries, []);
            entries.ForEach(removed);
            return;
        }
        catch (ForwardingTableException)
        {
            // One element the kernel no longer holds fails the whole transaction: try each on its own.
        }
        foreach (var entry in entries)
        {
            try
            {
                table.Update([entry], []);
                removed(entry);
            }
            catch (ForwardingTableException)
            {
            }
        }
    }
}
