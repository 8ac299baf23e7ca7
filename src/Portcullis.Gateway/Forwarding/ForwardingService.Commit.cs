using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// Group commit of MAP requests (GroupCommitter): a batch of concurrent requests, at most one per client, runs under
// the service's lock:
//  1. each request is decided in order against the state and the ports reserved by the batch's earlier creates
//  2. every change goes to the kernel in one table update (TableWriter.ApplyAll)
//  3. it succeeded: each change commits and its answer is ready
//  4. it failed: each change is tried alone, so only a change the kernel refuses fails its request (NetworkFailure)
// Nothing commits before the kernel took it, so an answer always means "live (or gone) in the kernel".
public sealed partial class ForwardingService
{
    /// <summary>The most requests one table update carries.</summary>
    internal const int MaxBatch = 256;

    /// <summary>Under load, how long a batch waits to fill before it goes (idle requests go at once).</summary>
    internal static readonly TimeSpan MaxBatchWait = TimeSpan.FromMicroseconds(50);

    // Ports given to creates decided in the running batch but not yet committed, with the peer given each.
    private readonly Dictionary<PortKey, string> _reserved = [];

    /// <summary>Table updates made for requests so far, and the requests they carried.</summary>
    internal (long Batches, long Requests) BatchTotals => _committer.Totals;

    /// <summary>Requests waiting for the next batch now.</summary>
    internal int QueuedRequests => _committer.Queued;

    private GroupCommitter<FrontRequest, MapResult> NewCommitter() => new(RunBatch, MaxBatch, MaxBatchWait);

    private void RunBatch(IReadOnlyList<GroupCommitter<FrontRequest, MapResult>.Slot> batch)
    {
        lock (_lock)
        {
            try
            {
                var changes = new List<(GroupCommitter<FrontRequest, MapResult>.Slot Slot, MapChange Change)>(batch.Count);
                foreach (var slot in batch)
                {
                    Decision decision;
                    try
                    {
                        decision = DecideLocked(slot.Request);
                    }
                    catch (Exception e)
                    {
                        // A bug in one request's decision is its caller's alone (its front end answers it).
                        slot.Error = e;
                        continue;
                    }
                    if (decision.Change is { } change)
                        changes.Add((slot, change));
                    else
                        slot.Result = decision.Result;
                }
                if (changes.Count > 0)
                    _writer.ApplyAll(changes, Applied);
            }
            finally
            {
                _reserved.Clear();
            }
        }
    }

    private void Applied(GroupCommitter<FrontRequest, MapResult>.Slot slot, MapChange change, bool taken) =>
        slot.Result = taken ? change.Commit() : Refused(MapStatus.NetworkFailure);
}
