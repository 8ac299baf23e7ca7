using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>libnftables in-process, each test in namespaces of its own (needs root, as the lab).</summary>
public sealed class NftContextTests
{
    [Fact]
    public void Run_ValidCommands_VisibleToNftTool()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        using var nft = ns.Run(() => new NftContext());

        nft.Run("add table ip probe\nadd chain ip probe c { type filter hook input priority 0; policy accept; }");

        var ruleset = ns.Ruleset();
        Assert.Contains("table ip probe", ruleset, StringComparison.Ordinal);
        Assert.Contains("chain c", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_KernelRejectsOneCommand_ThrowsWithNftErrorAndRollsBackTheRest()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        using var nft = ns.Run(() => new NftContext());
        nft.Run("add table ip probe\nadd map ip probe m { type inet_service : inet_service; }\nadd element ip probe m { 1 : 2 }");

        // The kernel refuses the second line (the key exists with another value): the first must not happen either.
        var e = Assert.Throws<NftException>(() => nft.Run("add table ip other\nadd element ip probe m { 1 : 3 }"));

        Assert.Contains("File exists", e.NftError, StringComparison.Ordinal);
        Assert.Contains("File exists", e.Message, StringComparison.Ordinal);
        var ruleset = ns.Ruleset();
        Assert.DoesNotContain("table ip other", ruleset, StringComparison.Ordinal);
        Assert.Contains("1 : 2", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_SyntaxError_ThrowsAndNextCommandStillWorks()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        using var nft = ns.Run(() => new NftContext());

        var e = Assert.Throws<NftException>(() => nft.Run("add tabel ip probe"));
        Assert.Contains("syntax error", e.NftError, StringComparison.Ordinal);

        // The error buffer was drained: a good command afterwards returns no stale text and succeeds.
        Assert.Equal(string.Empty, nft.Run("add table ip probe"));
        Assert.Contains("table ip probe", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ContextCreatedInOtherNamespace_ActsInTheCreatingNamespace()
    {
        using var home = new TestNamespace("pcgk-home");
        using var away = new TestNamespace("pcgk-away");
        using var nft = home.Run(() => new NftContext());

        // Run from a thread in another namespace: the socket opened at nft_ctx_new decides where commands go.
        away.Run(() => nft.Run("add table ip probe"));

        Assert.Contains("table ip probe", home.Ruleset(), StringComparison.Ordinal);
        Assert.DoesNotContain("table ip probe", away.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void RunJson_ListTable_ReturnsJsonDocument()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        using var nft = ns.Run(() => new NftContext());
        nft.Run("add table ip probe");

        var json = nft.RunJson("list table ip probe");

        using var document = System.Text.Json.JsonDocument.Parse(json);
        var items = document.RootElement.GetProperty("nftables");
        Assert.Contains(items.EnumerateArray(), item =>
            item.TryGetProperty("table", out var table) && table.GetProperty("name").GetString() == "probe");
        // The JSON flag is per call: plain Run prints nft syntax again.
        Assert.StartsWith("table ip probe", nft.Run("list table ip probe"), StringComparison.Ordinal);
    }

    [Fact]
    public void Run_AfterDispose_ThrowsObjectDisposed()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        var nft = ns.Run(() => new NftContext());
        nft.Dispose();
        nft.Dispose();

        Assert.Throws<ObjectDisposedException>(() => nft.Run("list ruleset"));
    }

    [Fact]
    public void Run_NulInCommands_Rejected()
    {
        using var ns = new TestNamespace("pcgk-ctx");
        using var nft = ns.Run(() => new NftContext());

        Assert.Throws<ArgumentException>(() => nft.Run("add table ip a\0add table ip b"));
        Assert.DoesNotContain("table ip", ns.Ruleset(), StringComparison.Ordinal);
    }
}
