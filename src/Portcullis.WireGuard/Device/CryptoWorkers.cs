namespace Portcullis.WireGuard.Device;

/// <summary>
/// The parallel step of both pipelines: each worker takes a whole batch, seals or opens every packet in place with
/// its own cipher objects, and marks the batch processed for the ordered stage waiting on it.
/// </summary>
public sealed partial class WireGuardDevice
{
    private void RunCryptoWorker(int worker)
    {
        while (cryptoQueue.Take(out var batch))
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
            finally
            {
                // Whatever happened, the ordered stage must not wait forever on this batch.
                batch.MarkProcessed();
            }
        }
    }
}
