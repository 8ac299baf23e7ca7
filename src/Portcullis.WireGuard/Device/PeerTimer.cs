namespace Portcullis.WireGuard.Device;

/// <summary>
/// A one-shot timer that can be re-armed ("mod") and stopped ("del"), as wireguard-go's Timer.
/// Built on the injected TimeProvider so tests run on virtual time. The underlying timer is made on the first Mod:
/// a peer that never connects (most of a big gateway's, at any moment) holds none of its six (issue 13: they were
/// 1.3 KiB of every idle peer's heap).
/// </summary>
internal sealed class PeerTimer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action _expired;
    private ITimer? _timer;
    private int _pending;
    private int _disposed;

    public PeerTimer(TimeProvider time, Action expired)
    {
        _time = time;
        _expired = expired;
    }

    public bool IsPending => Volatile.Read(ref _pending) != 0;

    public void Mod(TimeSpan due)
    {
        Volatile.Write(ref _pending, 1);
        (Volatile.Read(ref _timer) ?? Create())?.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    public void Del()
    {
        Volatile.Write(ref _pending, 0);
        Volatile.Read(ref _timer)?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        if (Interlocked.Exchange(ref _pending, 0) == 1)
            _expired();
    }

    // Mod may race with another Mod (packet threads) or with Dispose: one timer wins, a loser is disposed, and none
    // is made once the peer is gone (null: nothing to arm).
    private ITimer? Create()
    {
        if (Volatile.Read(ref _disposed) != 0)
            return null;
        var made = _time.CreateTimer(static s => ((PeerTimer)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var existing = Interlocked.CompareExchange(ref _timer, made, null);
        if (existing is not null)
        {
            made.Dispose();
            return existing;
        }
        if (Volatile.Read(ref _disposed) != 0)
        {
            Interlocked.CompareExchange(ref _timer, null, made);
            made.Dispose();
            return null;
        }
        return made;
    }

    public void Dispose()
    {
        Volatile.Write(ref _disposed, 1);
        Volatile.Write(ref _pending, 0);
        Interlocked.Exchange(ref _timer, null)?.Dispose();
    }
}
