using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// Deletes tracked connections (conntrack entries) so that flows of a removed port mapping stop.
/// <para>
/// Mechanism today: the conntrack(8) tool (Debian package conntrack), run as a child process in the network
/// namespace of the thread that created this object — the same rule as <see cref="NftContext"/>.
/// The in-process upgrade is ctnetlink (NETLINK_NETFILTER, IPCTNL_MSG_CT_GET dump filtered by the original
/// tuple, then IPCTNL_MSG_CT_DELETE per entry), which is what the tool does.
/// </para>
/// Thread-safe: each call is its own child process.
/// </summary>
public sealed partial class Conntrack : IDisposable
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);
    private readonly CapturedNamespace _namespace = new();
    private readonly string _tool = FindTool();

    /// <summary>True when the conntrack tool is installed.</summary>
    public static bool IsSupported => File.Exists(FindTool());

    /// <summary>
    /// Deletes every entry whose original direction was addressed to <paramref name="destination"/>:<paramref name="port"/>
    /// over <paramref name="protocol"/> ("tcp" or "udp"); returns how many were deleted. None is not an error.
    /// Throws <see cref="IOException"/> when the tool fails.
    /// </summary>
    public int DeleteByOriginalDestination(string protocol, IPAddress destination, ushort port)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (protocol is not ("tcp" or "udp"))
            throw new ArgumentException($"protocol must be tcp or udp, not '{protocol}'", nameof(protocol));
        if (destination.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("only IPv4 destinations are tracked here", nameof(destination));

        string[] arguments =
        [
            "-D", "-f", "ipv4", "-p", protocol,
            "--orig-dst", destination.ToString(),
            "--orig-port-dst", port.ToString(CultureInfo.InvariantCulture),
        ];
        var (exitCode, output) = _namespace.Run(() => RunTool(_tool, arguments));
        var deleted = DeletedCount().Match(output);
        // conntrack exits 1 when nothing matched ("0 flow entries have been deleted"): not a failure.
        if (deleted.Success && (exitCode == 0 || deleted.Groups[1].Value == "0"))
            return int.Parse(deleted.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        throw new IOException($"conntrack -D failed (exit {exitCode}): {output.Trim()}");
    }

    public void Dispose() => _namespace.Dispose();

    private static (int ExitCode, string Output) RunTool(string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new IOException($"could not start {tool}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill(entireProcessTree: true);
            throw new IOException($"{tool} did not finish within {CommandTimeout.TotalSeconds} s");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    private static string FindTool()
    {
        foreach (var candidate in (string[])["/usr/sbin/conntrack", "/sbin/conntrack", "/usr/bin/conntrack"])
        {
            if (File.Exists(candidate))
                return candidate;
        }
        return "conntrack";
    }

    [GeneratedRegex(@"(\d+) flow entries have been deleted")]
    private static partial Regex DeletedCount();
}
