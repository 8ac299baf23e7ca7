using System.Globalization;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// What the runtime and the scheduler did to this process over a run: garbage collections (count per generation,
/// total pause, bytes allocated) and, per thread name, CPU time and time spent runnable but waiting for a core
/// (/proc/self/task/*/schedstat: run-queue wait), with how many threads carry that name.
/// </summary>
internal sealed class RuntimeProbe
{
    private readonly int[] _collections = new int[3];
    private readonly TimeSpan _pause;
    private readonly long _allocated;
    private readonly Dictionary<int, (string Name, long CpuNs, long WaitNs, long Slices)> _threads;
    private readonly long[] _machine;

    private RuntimeProbe()
    {
        for (var g = 0; g < 3; g++)
            _collections[g] = GC.CollectionCount(g);
        _pause = GC.GetTotalPauseDuration();
        _allocated = GC.GetTotalAllocatedBytes(precise: true);
        _threads = Threads();
        _machine = Machine();
    }

    public static RuntimeProbe Start() => new();

    /// <summary>Lines describing what happened since <see cref="Start"/>, per answered request where that is telling.</summary>
    public IEnumerable<string> Report(int requests)
    {
        var pause = GC.GetTotalPauseDuration() - _pause;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - _allocated;
        yield return $"GC: gen0 {GC.CollectionCount(0) - _collections[0]}, gen1 {GC.CollectionCount(1) - _collections[1]}, gen2 {GC.CollectionCount(2) - _collections[2]}; "
            + $"paused {pause.TotalMilliseconds:F1} ms in all; {allocated / Math.Max(1, requests)} bytes allocated per answered request ({GCSettings()})";
        // The heap the collections work over: a gen0 pause of milliseconds is the old generations' cards and the roots.
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = info.GenerationInfo;
        yield return $"GC heap after the last collection (gen{info.Generation}): {info.HeapSizeBytes / 1e6:F1} MB "
            + $"(gen0 {generations[0].SizeAfterBytes / 1e6:F1}, gen1 {generations[1].SizeAfterBytes / 1e6:F1}, gen2 {generations[2].SizeAfterBytes / 1e6:F1}, "
            + $"LOH {generations[3].SizeAfterBytes / 1e6:F1}, POH {generations[4].SizeAfterBytes / 1e6:F1}), promoted {info.PromotedBytes / 1e6:F2} MB, "
            + $"pinned objects {info.PinnedObjectsCount}, its pause {info.PauseDurations[0].TotalMicroseconds:F0} µs";
        var machine = Machine();
        var spent = machine.Zip(_machine, (a, b) => a - b).ToArray();
        var total = Math.Max(1, spent.Sum());
        // /proc/stat's cpu line: user nice system idle iowait irq softirq steal …; in cores of the 2 (Environment.ProcessorCount).
        string Share(int i) => spent.Length > i ? $"{Environment.ProcessorCount * (double)spent[i] / total:F2}" : "n/a";
        yield return $"the whole machine, in cores: user {Share(0)}, nice {Share(1)}, system {Share(2)}, softirq {Share(6)}, steal {Share(7)}, idle {Share(3)}";
        var now = Threads();
        var groups = new Dictionary<string, (int Count, long CpuNs, long WaitNs)>();
        long slices = 0;
        foreach (var (tid, (name, cpu, wait, slice)) in now)
        {
            var (_, cpu0, wait0, slice0) = _threads.TryGetValue(tid, out var before) ? before : (name, 0L, 0L, 0L);
            var group = groups.GetValueOrDefault(name);
            groups[name] = (group.Count + 1, group.CpuNs + cpu - cpu0, group.WaitNs + wait - wait0);
            slices += slice - slice0;
        }
        // A timeslice begins with every wake-up (and every preemption): per request, how often a thread of ours had to get a core.
        yield return $"timeslices of all threads: {(double)slices / Math.Max(1, requests):F1} per answered request";
        foreach (var (name, (count, cpu, wait)) in groups.Where(g => g.Value.CpuNs + g.Value.WaitNs > 1_000_000).OrderByDescending(g => g.Value.CpuNs + g.Value.WaitNs))
            yield return $"threads '{name}' ×{count}: cpu {cpu / 1e6:F0} ms, waited for a core {wait / 1e6:F0} ms";
    }

    private static string GCSettings() =>
        $"{(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}, {System.Runtime.GCSettings.LatencyMode}";

    private static long[] Machine()
    {
        var line = File.ReadLines("/proc/stat").First();
        return [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => long.Parse(f, CultureInfo.InvariantCulture))];
    }

    private static Dictionary<int, (string, long, long, long)> Threads()
    {
        var threads = new Dictionary<int, (string, long, long, long)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var name = File.ReadAllText(Path.Combine(dir, "comm")).Trim();
                var fields = File.ReadAllText(Path.Combine(dir, "schedstat")).Split(' ');
                threads[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] =
                    (name, long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[2], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }
        return threads;
    }
}
