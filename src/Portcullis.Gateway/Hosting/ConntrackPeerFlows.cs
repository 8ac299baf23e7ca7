using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Deletes the tracked flows of a tunnel address whose peer was removed or disabled: those it opened (original
/// source = the address, masqueraded on the way out) and those forwarded to it (reply source = the address). The
/// in-process ctnetlink deleter (Portcullis.Linux.Nftables.Conntrack) selects by original destination only, which
/// is what a removed mapping needs; selecting by source is conntrack(8)'s <c>-s</c> and <c>--reply-src</c>, run
/// here in the gateway's network namespace. A rare admin action, so a process per call is affordable. Without the
/// tool the device has already cut the data path (no peer owns the address); the stale entries then only time out.
/// </summary>
internal sealed partial class ConntrackPeerFlows(ILogger logger) : IPeerFlows
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(2);

    public void Cut(IPAddress tunnelAddress)
    {
        ArgumentNullException.ThrowIfNull(tunnelAddress);
        var address = tunnelAddress.ToString();
        Run("-D", "-s", address);
        Run("-D", "--reply-src", address);
    }

    private void Run(params string[] arguments)
    {
        var start = new ProcessStartInfo("conntrack")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        try
        {
            using var process = Process.Start(start);
            if (process is null)
                return;
            // Exit 1 with "0 flow entries" is conntrack's way of saying there was nothing: not a failure.
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Deadline))
            {
                process.Kill();
                FlowCutFailed(logger, "conntrack did not finish in time");
            }
            Task.WaitAll([output, errors], Deadline);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            FlowCutFailed(logger, e.Message);
        }
    }

    [LoggerMessage(6020, LogLevel.Warning, "Removing a peer's tracked flows failed ({Reason}); they stay until they time out")]
    private static partial void FlowCutFailed(ILogger logger, string reason);
}
