namespace Portcullis.WireGuard.Device;

/// <summary>
/// A bounded blocking FIFO between pipeline stages. Used per batch, never per packet, so a monitor is cheap
/// enough and allocation-free. After <see cref="Close"/>, Add refuses and Take drains what is left, then fails.
/// </summary>
internal sealed class WorkQueue<T>(int capacity) where T : class
{
    private readonly T?[] items = new T?[capacity];
    private readonly object gate = new();
    private int head;
    private int count;
    private bool closed;

    public int Count
    {
        get { lock (gate) return count; }
    }

    /// <summary>Blocks while full. False when the queue is closed.</summary>
    public bool Add(T item)
    {
        lock (gate)
        {
            while (count == items.Length && !closed)
                Monitor.Wait(gate);
            if (closed)
                return false;
            items[(head + count) % items.Length] = item;
            count++;
            Monitor.PulseAll(gate);
            return true;
        }
    }

    /// <summary>Never blocks. False when full or closed.</summary>
    public bool TryAdd(T item)
    {
        lock (gate)
        {
            if (closed || count == items.Length)
                return false;
            items[(head + count) % items.Length] = item;
            count++;
            Monitor.PulseAll(gate);
            return true;
        }
    }

    /// <summary>Blocks while empty. False once closed and drained.</summary>
    public bool Take(out T item)
    {
        lock (gate)
        {
            while (count == 0 && !closed)
                Monitor.Wait(gate);
            if (count == 0)
            {
                item = null!;
                return false;
            }
            item = items[head]!;
            items[head] = null;
            head = (head + 1) % items.Length;
            count--;
            Monitor.PulseAll(gate);
            return true;
        }
    }

    /// <summary>Never blocks. False when empty.</summary>
    public bool TryTake(out T item)
    {
        lock (gate)
        {
            if (count == 0)
            {
                item = null!;
                return false;
            }
            item = items[head]!;
            items[head] = null;
            head = (head + 1) % items.Length;
            count--;
            Monitor.PulseAll(gate);
            return true;
        }
    }

    public void Close()
    {
        lock (gate)
        {
            closed = true;
            Monitor.PulseAll(gate);
        }
    }
}
