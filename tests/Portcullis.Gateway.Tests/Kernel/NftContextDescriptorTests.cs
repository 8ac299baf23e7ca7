using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>Holds most of the process's low descriptors, so it must not overlap any other test.</summary>
[CollectionDefinition(nameof(DescriptorHungryCollection), DisableParallelization = true)]
public sealed class DescriptorHungryCollection;

[Collection(nameof(DescriptorHungryCollection))]
public sealed class NftContextDescriptorTests
{
    [Fact]
    public void Constructor_DescriptorNumbersNearSelectLimit_ThrowsInsteadOfAborting()
    {
        using var ns = new TestNamespace("pcgk-fd");
        var held = new List<FileStream>();
        try
        {
            // Fill the table up to just below 1024: the next socket libnftables would open is past select()'s reach.
            while (held.Count < 1100 && (int)(held.Count == 0 ? 0 : held[^1].SafeFileHandle.DangerousGetHandle()) < 1020)
                held.Add(new FileStream("/dev/null", FileMode.Open, FileAccess.Read));

            var e = Assert.Throws<NftException>(() => ns.Run(() => new NftContext()));
            Assert.Contains("too many open files", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var stream in held)
                stream.Dispose();
        }

        using var nft = ns.Run(() => new NftContext());
        nft.Run("add table ip probe");
        Assert.Contains("table ip probe", ns.Ruleset(), StringComparison.Ordinal);
    }
}
