namespace Portcullis.WireGuard.Device;

/// <summary>
/// A bounded blocking FIFO between pipeline stages. Used per batch, never per packet, so a monitor is cheap
/// enough and allocation-free. After <see cref="Close"/>, Add refuses and Take drains what is left, then fails.
/// </summary>
internal sealed class WorkQueue<T>(int capacity) where T : class
{
    private readonly T?[] _items = new T?[capacity];
    private readonly object _gate = new();
    private int _head;
    private int _count;
    private bool _closed;

    public int Count
    {
        get { lock (_gate) return _count; }
    }

    /// <summary>Blocks while full. False when the queue is closed.</summary>
    public bool Add(T item)
    {
        lock (_gate)
        {
            while (_count == _items.Length && !_closed)
                Monitor.Wait(_gate);
            if (_closed)
                return false;
            _items[(_head + _count) % _items.Length] = item;
            _count++;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Never blocks. False when full or closed.</summary>
    public bool TryAdd(T item)
    {
        lock (_gate)
        {
            if (_closed || _count == _items.Length)
                return false;
            _items[(_head + _count) % _items.Length] = item;
            _count++;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Blocks while empty. False once closed and drained.</summary>
    public bool Take(out T item)
    {
        lock (_gate)
        {
            while (_count == 0 && !_closed)
                Monitor.Wait(_gate);
            if (_count == 0)
            {
                item = null!;
                return false;
            }
            item = _items[_head]!;
            _items[_head] = null;
            _head = (_head + 1) % _items.Length;
            _count--;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Never blocks. False when empty.</summary>
    public bool TryTake(out T item)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                item = null!;
                return false;
            }
            item = _items[_head]!;
            _items[_head] = null;
            _head = (_head + 1) % _items.Length;
            _count--;
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
