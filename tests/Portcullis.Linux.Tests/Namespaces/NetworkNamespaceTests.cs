using Portcullis.Linux.Namespaces;
using Portcullis.Linux.Tests.Support;

namespace Portcullis.Linux.Tests.Namespaces;

public sealed class NetworkNamespaceTests
{
    /// <summary>The network namespace of the calling thread, as the kernel names it ("net:[4026531840]").</summary>
    private static string ThreadNetNs() => new FileInfo("/proc/thread-self/ns/net").LinkTarget ?? string.Empty;

    [Fact]
    public void RunIn_Namespace_ActionSeesThatNamespaceAndCallerDoesNot()
    {
        using var ns = new TestNamespace("pclx");
        var expected = new FileInfo($"{NetworkNamespace.Directory}/{ns.Name}");
        var outside = ThreadNetNs();

        var inside = NetworkNamespace.RunIn(ns.Name, ThreadNetNs);

        Assert.NotEqual(outside, inside);
        Assert.Equal(outside, ThreadNetNs());
        // The namespace file is the same inode the thread's ns link names.
        Assert.Equal(inside, NetworkNamespace.RunIn(ns.Name, ThreadNetNs));
        Assert.True(expected.Exists);
    }

    [Fact]
    public void RunIn_ActionThrows_ExceptionReachesCaller()
    {
        using var ns = new TestNamespace("pclx");
        var error = Assert.Throws<InvalidOperationException>(() => NetworkNamespace.RunIn(ns.Name, () => throw new InvalidOperationException("boom")));
        Assert.Equal("boom", error.Message);
    }

    [Fact]
    public void RunIn_MissingNamespace_ThrowsNamingIt()
    {
        var error = Assert.Throws<LinuxCallException>(() => NetworkNamespace.RunIn("pclx-does-not-exist", () => 1));
        Assert.Contains("pclx-does-not-exist", error.Message);
        Assert.Equal(2, error.Errno);
    }
}
