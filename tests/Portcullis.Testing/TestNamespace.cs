using Portcullis.Linux.Namespaces;

namespace Portcullis.Testing;

/// <summary>
/// A uniquely named network namespace with loopback up, deleted on Dispose with every interface in it (use it in a
/// using block, so a failing test removes it too). Nothing is configured in the root namespace.
/// </summary>
public sealed class TestNamespace : IDisposable
{
    /// <summary>Makes <c>PREFIX-PID-RANDOM</c>; the prefix says which tests made it (to find a leak's owner).</summary>
    public TestNamespace(string prefix = "pct")
    {
        if (!Environment.IsPrivilegedProcess)
            throw new InvalidOperationException("tests that make a network namespace run as root");
        Name = $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        Shell.Check("ip", "netns", "add", Name);
        try
        {
            Ip("link", "set", "lo", "up");
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

    /// <summary>Runs `ip ARGS` inside the namespace and returns its output; throws if it fails.</summary>
    public string Ip(params string[] arguments) => Shell.Check("ip", ["-n", Name, .. arguments]);

    /// <summary>Runs `ip ARGS` inside the namespace; the caller reads the exit code.</summary>
    public (int ExitCode, string Output) TryIp(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    /// <summary>Runs a program inside the namespace (ip netns exec) and returns its output; throws if it fails.</summary>
    public string Exec(params string[] command) => Shell.Check("ip", ["netns", "exec", Name, .. command]);

    /// <summary>Runs a program inside the namespace (ip netns exec); the caller reads the exit code.</summary>
    public (int ExitCode, string Output) TryExec(params string[] command) => Shell.Run("ip", ["netns", "exec", Name, .. command]);

    /// <summary>`nft list ruleset` as the nft tool sees this namespace (an independent view of in-process writes).</summary>
    public string Ruleset() => Exec("nft", "list", "ruleset");

    /// <summary>
    /// Deletes the namespace. `ip netns del` can fail with EBUSY while a concurrent `ip netns exec` (another test's)
    /// holds a copy of the namespace mount, so it is retried until the name is gone.
    /// </summary>
    public void Dispose()
    {
        var path = Path.Combine(NetworkNamespace.Directory, Name);
        for (var attempt = 0; attempt < 100; attempt++)
        {
            Shell.Run("ip", "netns", "del", Name);
            if (!File.Exists(path))
                return;
            Thread.Sleep(50);
        }
    }
}
