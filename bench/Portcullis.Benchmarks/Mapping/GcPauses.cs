using System.Diagnostics.Tracing;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// Each garbage collection's pause split in two, from the runtime's own GC events: bringing every managed thread to a
/// stop (SuspendEE begin → end: a thread waiting for a core cannot stop until it gets one) and the collection itself
/// (GCStart → GCEnd), with the generation collected. Enough to tell a slow collector from a slow suspension.
/// </summary>
internal sealed class GcPauses : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly List<(int Generation, double SuspendUs, double CollectUs, double PauseUs)> _pauses = [];
    private readonly List<(long From, long To)> _intervals = [];
    private DateTime _clockAt;
    private long _ticksAt;
    private DateTime _suspendBegin;
    private DateTime _suspendEnd;
    private DateTime _gcStart;
    private double _collectUs;
    private int _generation;
    private bool _recording;
    private readonly Dictionary<string, long> _allocatedByType = [];

    /// <summary>
    /// PORTCULLIS_BENCH_ALLOCATIONS=1: also take the allocation samples (Verbose GC events). Their delivery costs enough
    /// to change the latencies measured, so they are off unless asked for.
    /// </summary>
    public static bool Sampling { get; } = Environment.GetEnvironmentVariable("PORTCULLIS_BENCH_ALLOCATIONS") == "1";

    public void Begin()
    {
        lock (_pauses)
        {
            _pauses.Clear();
            _intervals.Clear();
            _allocatedByType.Clear();
            (_clockAt, _ticksAt) = (DateTime.UtcNow, System.Diagnostics.Stopwatch.GetTimestamp());
            _recording = true;
        }
    }

    /// <summary>One line: per collection "gen g: suspend + collect = pause µs", in order.</summary>
    public string End()
    {
        lock (_pauses)
        {
            _recording = false;
            return _pauses.Count == 0 ? "no collections seen"
                : string.Join("; ", _pauses.Select(p => $"gen{p.Generation} {p.SuspendUs:F0} + {p.CollectUs:F0} = {p.PauseUs:F0} µs"));
        }
    }

    /// <summary>The pauses as Stopwatch timestamps (from, to), in order: to tell which requests a pause held up.</summary>
    public IReadOnlyList<(long From, long To)> Intervals
    {
        get
        {
            lock (_pauses)
                return [.. _intervals];
        }
    }

    private long Ticks(DateTime at) =>
        _ticksAt + (long)((at - _clockAt).TotalSeconds * System.Diagnostics.Stopwatch.Frequency);

    /// <summary>
    /// The types allocated most, by the runtime's allocation sample (an event per ~100 KB allocated, naming the type
    /// that crossed the mark): each type's share of the samples, the top <paramref name="count"/>.
    /// </summary>
    public string TopAllocations(int count)
    {
        lock (_pauses)
        {
            var total = Math.Max(1, _allocatedByType.Values.Sum());
            return string.Join(", ", _allocatedByType.OrderByDescending(t => t.Value).Take(count)
                .Select(t => $"{t.Key} {100.0 * t.Value / total:F0} %"));
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(eventSource, Sampling ? EventLevel.Verbose : EventLevel.Informational, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        var name = e.EventName ?? "";
        lock (_pauses)
        {
            if (name.StartsWith("GCAllocationTick", StringComparison.Ordinal))
            {
                if (_recording && e.PayloadNames is { } names && names.IndexOf("TypeName") is var i and >= 0 && e.Payload![i] is string type)
                    _allocatedByType[type] = _allocatedByType.GetValueOrDefault(type) + 1;
            }
            else if (name.StartsWith("GCSuspendEEBegin", StringComparison.Ordinal))
                _suspendBegin = e.TimeStamp;
            else if (name.StartsWith("GCSuspendEEEnd", StringComparison.Ordinal))
                _suspendEnd = e.TimeStamp;
            else if (name.StartsWith("GCStart", StringComparison.Ordinal))
            {
                _gcStart = e.TimeStamp;
                _generation = e.Payload is { Count: > 1 } p && p[1] is uint g ? (int)g : -1;
            }
            else if (name.StartsWith("GCEnd", StringComparison.Ordinal))
                _collectUs = (e.TimeStamp - _gcStart).TotalMicroseconds;
            else if (name.StartsWith("GCRestartEEEnd", StringComparison.Ordinal) && _recording)
            {
                _pauses.Add((_generation, (_suspendEnd - _suspendBegin).TotalMicroseconds, _collectUs, (e.TimeStamp - _suspendBegin).TotalMicroseconds));
                _intervals.Add((Ticks(_suspendBegin), Ticks(e.TimeStamp)));
            }
        }
    }
}
