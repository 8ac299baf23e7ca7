namespace Portcullis.WireGuard.Device;

/// <summary>
/// A one-shot timer that can be re-armed ("mod") and stopped ("del"), as wireguard-go's Timer.
/// Built on the injected TimeProvider so tests run on virtual time.
/// </summary>
internal sealed class PeerTimer : IDisposable
{
    private readonly ITimer timer;
    private readonly Action expired;
    private int pending;

    public PeerTimer(TimeProvider time, Action expired)
    {
        this.expired = expired;
        timer = time.CreateTimer(static s => ((PeerTimer)s!).Fire(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public bool IsPending => Volatile.Read(ref pending) != 0;

    public void Mod(TimeSpan due)
    {
        Volatile.Write(ref pending, 1);
        timer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    public void Del()
    {
        Volatile.Write(ref pending, 0);
        timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private void Fire()
    {
        if (Interlocked.Exchange(ref pending, 0) == 1)
            expired();
    }

    public void Dispose()
    {
        Volatile.Write(ref pending, 0);
        timer.Dispose();
    }
}
