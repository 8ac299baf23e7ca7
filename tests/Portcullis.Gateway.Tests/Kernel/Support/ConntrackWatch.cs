using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>
/// `conntrack -E -e NEW,DESTROY -o timestamp` (conntrack-tools, an observer we did not write) running in a namespace:
/// every line it prints, stamped by it with the wall clock as it received the kernel's event. Started only once it is
/// seen to receive events (a marker entry's NEW line), so nothing after <see cref="Start"/> is missed.
/// </summary>
internal sealed class ConntrackWatch : IDisposable
{
    private readonly Process _process;
    private readonly BlockingCollection<string> _lines = [];

    private ConntrackWatch(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                _lines.CompleteAdding();
            else if (!_lines.IsAddingCompleted)
                _lines.Add(e.Data);
        };
        _process.BeginOutputReadLine();
    }

    public static ConntrackWatch Start(KernelNamespace ns)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["netns", "exec", ns.Name, "conntrack", "-E", "-e", "NEW,DESTROY", "-o", "timestamp"])
            start.ArgumentList.Add(argument);
        var watch = new ConntrackWatch(Process.Start(start) ?? throw new InvalidOperationException("could not start conntrack -E"));
        try
        {
            // Keep inserting a marker until the watcher prints it: then it is subscribed.
            for (var marker = 1; ; marker++)
            {
                var port = marker.ToString(CultureInfo.InvariantCulture);
                ns.ExecChecked("conntrack", "-I", "-p", "udp", "-s", "192.0.2.1", "-d", "192.0.2.2", "--sport", port, "--dport", "9", "-t", "5");
                if (watch.TryWaitFor(l => l.Contains("[NEW]", StringComparison.Ordinal) && l.Contains($"sport={port} dport=9 ", StringComparison.Ordinal),
                        TimeSpan.FromSeconds(2)) is not null)
                {
                    return watch;
                }
                if (marker == 15)
                    throw new TimeoutException("conntrack -E printed no event");
            }
        }
        catch
        {
            watch.Dispose();
            throw;
        }
    }

    /// <summary>The next line that matches (earlier ones are skipped), or null after <paramref name="timeout"/>.</summary>
    public string? TryWaitFor(Func<string, bool> match, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0 || !_lines.TryTake(out var line, TimeSpan.FromMilliseconds(left)))
                return null;
            if (match(line))
                return line;
        }
    }

    /// <summary>The time conntrack stamped a line with ("[1796654994.939603]\t…"), as Unix seconds.</summary>
    public static double Stamp(string line)
    {
        var end = line.IndexOf(']', StringComparison.Ordinal);
        return double.Parse(line.AsSpan(1, end - 1), NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill();
            _process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}
