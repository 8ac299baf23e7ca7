using System.Diagnostics;
using Portcullis.Linux.Namespaces;

namespace Portcullis.Client.Tests.Support;

/// <summary>
/// A uniquely named network namespace with loopback up, deleted on Dispose (use it in a using block, so a failing
/// test removes it too). Kernel-state tests (nftables, rules) run inside it; nothing touches the root namespace.
/// </summary>
internal sealed class TestNamespace : IDisposable
{
    public TestNamespace()
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("kernel-state tests make a network namespace: run them as root");
        Name = $"pcct-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        Check("ip", "netns", "add", Name);
        try
        {
            Check("ip", "-n", Name, "link", "set", "lo", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Name { get; }

    public T Run<T>(Func<T> action) => NetworkNamespace.RunIn(Name, action);

    public void Run(Action action) => NetworkNamespace.RunIn(Name, action);

    /// <summary>Runs a command inside the namespace and returns its stdout; throws with stderr when it fails.</summary>
    public string Exec(params string[] command) => Check(["ip", "netns", "exec", Name, .. command]);

    public void Dispose() => Run("ip", "netns", "del", Name);

    private static string Check(params string[] command)
    {
        var (code, output, error) = Run(command);
        return code == 0 ? output : throw new InvalidOperationException($"`{string.Join(' ', command)}` failed ({code}): {error}");
    }

    private static (int Code, string Output, string Error) Run(params string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command[1..])
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error);
    }
}
