using Portcullis.Linux.Namespaces;

namespace Portcullis.Linux.Tests.Support;

/// <summary>
/// A uniquely named network namespace with loopback up, deleted on Dispose (use it in a using block so a
/// failing test removes it too). Nothing is configured in the root namespace.
/// </summary>
internal sealed class TestNamespace : IDisposable
{
    public TestNamespace()
    {
        Name = $"pclx-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
        Shell.Check("ip", "netns", "add", Name);
        try
        {
            Shell.Check("ip", "netns", "exec", Name, "ip", "link", "set", "lo", "up");
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

    /// <summary>Runs `ip ARGS` inside the namespace.</summary>
    public (int ExitCode, string Output) Ip(params string[] arguments) => Shell.Run("ip", ["-n", Name, .. arguments]);

    public void Dispose() => Shell.Run("ip", "netns", "del", Name);
}
