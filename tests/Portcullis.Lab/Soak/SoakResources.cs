using System.Globalization;

namespace Portcullis.Lab.Soak;

/// <summary>
/// The gateway's open file descriptors and resident memory (/proc/PID/fd, VmRSS), sampled after every soak step, per
/// process lifetime (a SIGKILL starts a new one). "Flat": over a lifetime long enough to judge, the second half's peak
/// stays within a small margin of the first half's — a leak per step (a socket, a buffer per request) grows it.
/// </summary>
internal sealed class SoakResources
{
    private const int MinSamples = 16;
    private const int FdMargin = 8;
    private const long RssMarginKiB = 24 * 1024;
    private const double RssFactor = 1.25;

    private readonly List<(int Pid, List<(int Fds, long RssKiB)> Samples)> _lifetimes = [];

    public void NewLifetime(int pid) => _lifetimes.Add((pid, []));

    public void Sample()
    {
        var (pid, samples) = _lifetimes[^1];
        samples.Add((Directory.GetFiles($"/proc/{pid}/fd").Length, RssKiB(pid)));
    }

    public void AssertFlat(Action<string> log)
    {
        var problems = new List<string>();
        foreach (var (pid, samples) in _lifetimes)
        {
            if (samples.Count == 0)
                continue;
            log($"gateway pid {pid}: {samples.Count} samples; fds {samples.Min(s => s.Fds)}–{samples.Max(s => s.Fds)} " +
                $"(first {samples[0].Fds}, last {samples[^1].Fds}); RSS {samples.Min(s => s.RssKiB) / 1024} – {samples.Max(s => s.RssKiB) / 1024} MiB " +
                $"(first {samples[0].RssKiB / 1024}, last {samples[^1].RssKiB / 1024})");
            if (samples.Count < MinSamples)
                continue;
            var half = samples.Count / 2;
            var early = samples.Take(half).ToList();
            var late = samples.Skip(half).ToList();
            if (late.Max(s => s.Fds) > early.Max(s => s.Fds) + FdMargin)
                problems.Add($"pid {pid}: descriptors grew from at most {early.Max(s => s.Fds)} to {late.Max(s => s.Fds)}");
            if (late.Max(s => s.RssKiB) > early.Max(s => s.RssKiB) * RssFactor + RssMarginKiB)
                problems.Add($"pid {pid}: resident memory grew from at most {early.Max(s => s.RssKiB)} KiB to {late.Max(s => s.RssKiB)} KiB");
        }
        if (problems.Count > 0)
            throw new Xunit.Sdk.XunitException("the gateway's resources were not flat:\n  " + string.Join("\n  ", problems));
    }

    private static long RssKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
        }
        return 0;
    }
}
