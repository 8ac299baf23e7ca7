using Portcullis.Linux.Namespaces;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>
/// A uniquely named network namespace with loopback up, deleted on Dispose (with every interface in it), so a
/// failing test leaves nothing behind. Nothing is configured in the root namespace.
/// </summary>
internal sealed class KernelNamespace : IDisposable
{
    public KernelNamespace(string role)
    {
        Name = $"pcgk-{role}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
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

    /// <summary>Runs `ip ARGS` inside the namespace and throws if it fails.</summary>
    public string Ip(params string[] arguments) => Shell.Check("ip", ["-n", Name, .. arguments]);

    /// <summary>Runs a program inside the namespace (ip netns exec).</summary>
    public (int ExitCode, string Output) Exec(params string[] command) => Shell.Run("ip", ["netns", "exec", Name, .. command]);

    public string ExecChecked(params string[] command) => Shell.Check("ip", ["netns", "exec", Name, .. command]);

    /// <summary>`nft list ruleset` as the nft tool sees this namespace (an independent view of our in-process writes).</summary>
    public string Ruleset() => ExecChecked("nft", "list", "ruleset");

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
