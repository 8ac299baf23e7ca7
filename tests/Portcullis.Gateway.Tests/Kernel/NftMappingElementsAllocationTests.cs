using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using Portcullis.PortMapping;
using Xunit.Abstractions;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// The steady-state update path allocates nothing per update: the same batch (a refresh of IPv4 and IPv6 mappings, and
/// new ones added and removed) written and committed to the real kernel again and again. Counted with the runtime's
/// per-thread allocation counter after a warm-up (buffers grown, code jitted).
/// </summary>
public sealed class NftMappingElementsAllocationTests(ITestOutputHelper output)
{
    private const int Rounds = 50;

    private static readonly ForwardingEntry[] Mappings =
    [
        Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromHours(1)),
        Entries.Udp(30001, Entries.Client2, 8081, "peer-2", TimeSpan.FromHours(1)),
        new(ForwardingLab.Public6, MappingProtocol.Tcp, 30002, ForwardingLab.Client1Ipv6, 8080, "peer-1", TimeSpan.FromHours(1)),
    ];

    [Fact]
    public void Append_RefreshCommittedOverAndOver_AllocatesNothing()
    {
        using var ns = new TestNamespace("pcgk-alloc");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(ForwardingLab.Nat66Network());
        using var writer = ns.Run(() => new NftSetElementWriter());
        var removed = new HashSet<(IPAddress, MappingProtocol, ushort)>();
        IReadOnlyCollection<ForwardingEntry> none = Array.Empty<ForwardingEntry>();
        var entries = new List<ForwardingEntry>(Mappings);
        Write(writer, none, entries, removed);

        var allocated = Measure(() => Write(writer, entries, entries, removed));

        output.WriteLine($"{allocated} bytes over {Rounds} refreshes");
        Assert.Equal(0, allocated);
    }

    // The remote-filter elements (NftFilterElements, another part's) still walk the entries through the collection
    // interface (a boxed enumerator per walk); the update allocates nothing beyond what that part alone does.
    [Fact]
    public void Update_Refresh_AllocatesNothingBeyondTheFilterElements()
    {
        using var ns = new TestNamespace("pcgk-alloc");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(ForwardingLab.Nat66Network());
        using var writer = ns.Run(() => new NftSetElementWriter());
        var entries = new List<ForwardingEntry>(Mappings);
        var extra = new List<ForwardingEntry> { Entries.Tcp(31000, Entries.Client2, 9000, "peer-2", TimeSpan.FromHours(1)) };
        var none = new List<ForwardingEntry>();
        table.Update(none, entries);

        var refresh = Measure(() => table.Update(entries, entries));
        var addRemove = Measure(() =>
        {
            table.Update(none, extra);
            table.Update(extra, none);
        }, warmUp: () => Assert.True(table.WaitForFlowCleanup(TimeSpan.FromSeconds(30))));

        var filters = Measure(() =>
        {
            writer.Begin();
            NftFilterElements.Append(writer, entries, entries);
        });

        output.WriteLine($"refresh: {refresh} bytes (filter elements alone: {filters}), add then remove (hands cleanups to the reaper): {addRemove} bytes over {Rounds} rounds");
        Assert.Equal(filters, refresh);
    }

    // On a network without IPv6, every update also checks that no entry is IPv6: a loop, not an iterator per update.
    [Fact]
    public void Update_RefreshOnAnIpv4OnlyNetwork_AllocatesNothingBeyondTheFilterElements()
    {
        using var ns = new TestNamespace("pcgk-alloc4");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network());
        using var writer = ns.Run(() => new NftSetElementWriter());
        var entries = new List<ForwardingEntry>(Mappings.Where(e => e.PublicAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork));
        table.Update([], entries);

        var refresh = Measure(() => table.Update(entries, entries));
        var filters = Measure(() =>
        {
            writer.Begin();
            NftFilterElements.Append(writer, entries, entries);
        });

        output.WriteLine($"refresh: {refresh} bytes (filter elements alone: {filters}) over {Rounds} rounds");
        Assert.Equal(filters, refresh);
    }

    private static void Write(NftSetElementWriter writer, IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add,
        HashSet<(IPAddress, MappingProtocol, ushort)> removed)
    {
        writer.Begin();
        NftMappingElements.Append(writer, remove, add, removed);
        writer.Commit();
    }

    private static long Measure(Action round, Action? warmUp = null)
    {
        for (var i = 0; i < 3; i++)
            round();
        warmUp?.Invoke();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Rounds; i++)
            round();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
