using System.Text.RegularExpressions;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Demo;

/// <summary>
/// The README's first command, in CI: <c>scripts/demo --short</c> as a child process group this test reaps. The demo
/// asserts each step itself; this test checks that every narrated step reported success (not only the exit code)
/// and that the demo left nothing behind: namespaces, processes, UAPI sockets, client state files, temp folder.
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class DemoTests
{
    private static readonly TimeSpan DemoTimeout = TimeSpan.FromMinutes(4);
    private static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(60);

    // Titles as scripts/demo prints them; each must end in ✔.
    private static readonly string[] RequiredSteps =
    [
        "Build the lab internet: router, three segments, four hosts",
        "Make WireGuard keys and the admin token",
        "Start the gateway (portcullis gateway, SQLite store, two peers)",
        "Connect client A: portcullis connect --kill-switch --forward tcp:8080",
        "Connect client B: stock wireguard-go routed as wg-quick",
        "Both clients reach the internet from the gateway's public address",
        "Client A gets a dynamic port over PCP",
        "Client B's static forward from the config",
        "The remote host reaches both services",
        "Scan the gateway's public address from the remote host",
        "Operator CLI: peers, forwards, mappings, a live change",
        "Stop the gateway: client A's kill switch holds",
        "Disconnect client A cleanly",
    ];

    [Fact]
    public async Task Demo_ShortMode_EveryStepSucceedsAndNothingIsLeft()
    {
        LabRequirements.EnsureRoot();
        var script = Path.Combine(LabBinaries.RepositoryRoot, "scripts", "demo");
        var environment = new Dictionary<string, string> { ["PORTCULLIS_BIN"] = LabBinaries.Portcullis };
        var output = new ProcessRunner.OutputBuffer();
        string? labId = null;
        using var process = ProcessRunner.StartGroupLeader([script, "--short"], environment);
        try
        {
            process.OutputDataReceived += (_, e) => output.Append(e.Data);
            process.ErrorDataReceived += (_, e) => output.Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var exited = await WaitForExitAsync(process, DemoTimeout);
            if (!exited)
            {
                // As Ctrl-C would: the demo's trap removes its lab. SIGKILL only if it does not finish doing so.
                Native.SignalGroup(process.Id, Native.SigTerm);
                if (!await WaitForExitAsync(process, InterruptGrace))
                    Native.SignalGroup(process.Id, Native.SigKill);
                await process.WaitForExitAsync();
            }
            var text = output.ToString();
            labId = LabIdPattern().Match(text) is { Success: true } m ? m.Groups[1].Value : null;

            Assert.True(exited, $"the demo did not finish within {DemoTimeout}:\n{text}");
            Assert.True(process.ExitCode == 0, $"the demo exited with {process.ExitCode}:\n{text}");
            Assert.NotNull(labId);
            foreach (var title in RequiredSteps)
            {
                var result = StepResult(text, title);
                Assert.True(result == "✔", $"\"{title}\" reported \"{result}\":\n{text}");
            }
            Assert.Matches(@"open: \d+ \d+ — only the forwarded ports", text);
            Assert.Contains("forward remove → 30001 dark again", text, StringComparison.Ordinal);
            Assert.Matches(@"saw \d+ packets leave, all WireGuard UDP to 198\.51\.100\.10:51820 — nothing else", text);
            Assert.Contains($"All {StepCount(text)} steps passed.", text, StringComparison.Ordinal);

            // The demo cleaned up by itself; look before the finally below does anything.
            Assert.Empty(Leftovers(labId));
        }
        finally
        {
            // Whatever happened, this test's lab goes (and only this one: the id keeps a human's --keep lab alone).
            if (!process.HasExited)
            {
                Native.SignalGroup(process.Id, Native.SigKill);
                await process.WaitForExitAsync();
            }
            labId ??= LabIdPattern().Match(output.ToString()) is { Success: true } id ? id.Groups[1].Value : null;
            if (labId is not null && Leftovers(labId).Count > 0)
                await ProcessRunner.RunAsync([script, "--down", labId], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(60) });
        }
    }

    private static async Task<bool> WaitForExitAsync(System.Diagnostics.Process process, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>What the demo printed after "[n/N] TITLE ...": ✔, "skipped: why", or "(never ran)".</summary>
    private static string StepResult(string text, string title)
    {
        var line = Regex.Match(text, $@"^\[\d+/\d+\] {Regex.Escape(title)} \.\.\. (.*)$", RegexOptions.Multiline);
        return line.Success ? line.Groups[1].Value : "(never ran)";
    }

    private static int StepCount(string text) =>
        StepCountPattern().Match(text) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1;

    /// <summary>Everything of lab <paramref name="id"/> that still exists: namespaces, files, processes.</summary>
    private static List<string> Leftovers(string id)
    {
        var prefix = "pcd" + id;
        var found = new List<string>();
        if (Directory.Exists("/run/netns"))
            found.AddRange(Directory.GetFiles("/run/netns", prefix + "-*").Select(p => "namespace " + Path.GetFileName(p)));
        found.AddRange(Directory.GetDirectories("/tmp", prefix + "-*").Select(p => "folder " + p));
        foreach (var dir in new[] { "/run/portcullis", "/var/run/wireguard" })
        {
            if (Directory.Exists(dir))
                found.AddRange(Directory.GetFiles(dir, prefix + "*").Select(p => "file " + p));
        }
        foreach (var proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid) || pid == Environment.ProcessId)
                continue;
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(proc, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(prefix, StringComparison.Ordinal))
                    found.Add($"process {pid}: {cmdline}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process ended while we looked.
            }
        }
        return found;
    }

    [GeneratedRegex(@"^Portcullis demo — lab ([0-9a-f]{6})$", RegexOptions.Multiline)]
    private static partial Regex LabIdPattern();

    [GeneratedRegex(@"^\[\d+/(\d+)\]", RegexOptions.Multiline)]
    private static partial Regex StepCountPattern();
}
