namespace Portcullis.WireGuard.Device;

/// <summary>
/// The parallel step of both pipelines: each worker takes a whole batch, seals or opens every packet in place with
/// its own cipher objects, and marks the batch processed for the ordered stage waiting on it. A worker never dies
/// of a bad batch: whatever throws costs that batch (counted and logged), and the worker takes the next one — with
/// every worker gone, both directions would stall for good.
/// </summary>
public sealed partial class WireGuardDevice
{
    private const long WorkerFailureLogInterval = 10_000; // milliseconds
    private long _lastWorkerFailureLog = long.MinValue / 2;

    private void RunCryptoWorker(int worker)
    {
        while (_cryptoQueue.Take(out var batch))
        {
            try
            {
                if (batch.Outbound)
                {
                    for (var i = 0; i < batch.Count; i++)
                        Seal(batch, i, worker);
                }
                else
                {
                    for (var i = 0; i < batch.Count; i++)
                        Open(batch, i, worker);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                DropFailedBatch(batch, worker, e);
            }
            finally
            {
                // Whatever happened, the ordered stage must not wait forever on this batch.
                batch.MarkProcessed();
            }
        }
    }

    /// <summary>Drops what is left of a batch a worker failed on; logs at most once per interval, with the count so far.</summary>
    private void DropFailedBatch(PacketBatch batch, int worker, Exception failure)
    {
        var dropped = 0;
        for (var i = 0; i < batch.Count; i++)
        {
            if (batch.Keypairs[i] is null)
                continue;
            batch.Keypairs[i] = null;
            dropped++;
        }
        Counters.Add(DropReason.CryptoFailed, dropped);
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastWorkerFailureLog);
        if (now - last >= WorkerFailureLogInterval && Interlocked.CompareExchange(ref _lastWorkerFailureLog, now, last) == last)
            Log.CryptoWorkerFailed(Name, worker, batch.Outbound ? "outbound" : "inbound", Counters.CryptoFailed, failure);
    }
}
