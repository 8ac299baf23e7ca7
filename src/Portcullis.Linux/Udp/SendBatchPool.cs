namespace Portcullis.Linux.Udp;

/// <summary>
/// A few send batches, each behind its own lock, so several sender threads can be inside sendmmsg at
/// once without allocating. A sender takes the first free batch, starting from one chosen by its thread
/// id; when all are busy it waits on that first choice.
/// </summary>
internal sealed class SendBatchPool
{
    private readonly MessageBatch[] _batches;
    private readonly Lock[] _locks;

    public SendBatchPool(int slots, int capacity)
    {
        _batches = new MessageBatch[slots];
        _locks = new Lock[slots];
        for (var i = 0; i < slots; i++)
        {
            _batches[i] = new MessageBatch(capacity, sharedAddress: true);
            _locks[i] = new Lock();
        }
    }

    /// <summary>Takes a batch; pass the returned slot to <see cref="Return"/>.</summary>
    public MessageBatch Rent(out int slot)
    {
        var start = Environment.CurrentManagedThreadId % _batches.Length;
        for (var k = 0; k < _batches.Length; k++)
        {
            var i = (start + k) % _batches.Length;
            if (_locks[i].TryEnter())
            {
                slot = i;
                return _batches[i];
            }
        }
        _locks[start].Enter();
        slot = start;
        return _batches[start];
    }

    public void Return(int slot) => _locks[slot].Exit();
}
