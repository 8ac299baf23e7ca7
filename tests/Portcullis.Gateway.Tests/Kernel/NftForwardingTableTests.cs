using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The table against the real kernel, each test in a namespace of its own, checked through the nft tool.</summary>
public sealed class NftForwardingTableTests
{
    private static NftForwardingTable InstalledTable(TestNamespace ns)
    {
        var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network());
        return table;
    }

    [Fact]
    public void Install_FreshNamespace_RulesetHasChainsAndElementsInContractForm()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);

        table.Update([], [Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromHours(1))]);

        var ruleset = ns.Ruleset();
        Assert.Contains("table ip portcullis", ruleset, StringComparison.Ordinal);
        Assert.Contains("type nat hook prerouting priority dstnat", ruleset, StringComparison.Ordinal);
        Assert.Contains("type nat hook postrouting priority srcnat", ruleset, StringComparison.Ordinal);
        Assert.Contains("type filter hook forward priority filter", ruleset, StringComparison.Ordinal);
        // DESIGN §6: map elements end "… PUBLIC_PORT : TUNNEL_ADDRESS . INTERNAL_PORT".
        Assert.Contains("198.51.100.10 . tcp . 30000 : 10.99.0.2 . 8080", ruleset, StringComparison.Ordinal);
        Assert.Contains("198.51.100.10 . tcp . 30000 timeout 1h", ruleset, StringComparison.Ordinal);
        Assert.Contains("comment \"peer-1\"", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void Install_Again_KeepsElementsAndDoesNotDuplicateRules()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        table.Update([], [Entries.Tcp(30000, Entries.Client1, 8080, "peer-1")]);
        var before = ns.Ruleset();

        table.Install(Entries.Network());

        Assert.Equal(before, ns.Ruleset());
        Assert.Single(table.List());
    }

    [Fact]
    public void Install_ChangedNetwork_ReplacesRules()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);

        table.Install(Entries.Network(allowPeerToPeer: true) with { PublicInterface = "uplink" });

        var ruleset = ns.Ruleset();
        Assert.Contains("iifname \"pc0\" oifname \"pc0\" accept", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("iifname \"pc0\" oifname \"pc0\" drop", ruleset, StringComparison.Ordinal);
        Assert.DoesNotContain("\"eth0\"", ruleset, StringComparison.Ordinal);
    }

    [Fact]
    public void List_ReturnsEntriesWithOwnersAndTimeouts()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var dynamic = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromHours(1));
        var fixedForward = Entries.Udp(30001, Entries.Client2, 5000, "peer-2");

        table.Update([], [dynamic, fixedForward]);
        var listed = table.List().OrderBy(e => e.PublicPort).ToList();

        Assert.Equal(2, listed.Count);
        Assert.Equal(dynamic with { Timeout = null }, listed[0] with { Timeout = null });
        Assert.InRange(listed[0].Timeout!.Value, TimeSpan.FromSeconds(3590), TimeSpan.FromHours(1));
        Assert.Equal(fixedForward, listed[1]);
    }

    [Fact]
    public void List_NotInstalled_Empty()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = ns.Run(() => new NftForwardingTable());

        Assert.Empty(table.List());
    }

    [Fact]
    public void Update_AddThenRemove_ElementsFollow()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var a = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1");
        var b = Entries.Udp(30000, Entries.Client1, 8080, "peer-1");
        var c = Entries.Tcp(30001, Entries.Client2, 22, "peer-2");

        table.Update([], [a, b]);
        table.Update([a], [c]);

        Assert.Equal([b, c], table.List().OrderBy(e => e.PublicPort).ToList());
        Assert.DoesNotContain("tcp . 30000 :", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Update_Refresh_RestartsTimeoutAndKeepsTarget()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var entry = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromSeconds(100));
        table.Update([], [entry]);
        Thread.Sleep(TimeSpan.FromSeconds(2.2));
        var aged = Assert.Single(table.List()).Timeout!.Value;

        table.Update([entry], [entry]);

        var refreshed = Assert.Single(table.List());
        Assert.True(aged <= TimeSpan.FromSeconds(98), $"aged {aged}");
        Assert.True(refreshed.Timeout >= TimeSpan.FromSeconds(99), $"refreshed {refreshed.Timeout}");
        Assert.Equal(Entries.Client1, refreshed.TunnelAddress);
    }

    [Fact]
    public void Update_Reassign_SameKeyNewTargetInOneTransaction()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var old = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1");
        var moved = Entries.Tcp(30000, Entries.Client2, 9090, "peer-2");
        table.Update([], [old]);

        table.Update([old], [moved]);

        Assert.Equal(moved, Assert.Single(table.List()));
        Assert.Contains("30000 : 10.99.0.3 . 9090", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Update_ConflictingAdd_ThrowsAndKeepsPreviousElements()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var existing = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1");
        var other = Entries.Tcp(30001, Entries.Client1, 8081, "peer-1");
        table.Update([], [existing, other]);
        var before = ns.Ruleset();

        // The same key with another target, plus a removal and an unrelated add: all or nothing.
        var e = Assert.Throws<ForwardingTableException>(() => table.Update(
            [other],
            [Entries.Tcp(30002, Entries.Client2, 22, "peer-2"), Entries.Tcp(30000, Entries.Client2, 8080, "peer-2")]));

        Assert.Contains("File exists", e.Message, StringComparison.Ordinal);
        Assert.Contains("(tcp 198.51.100.10:30000)", e.Message, StringComparison.Ordinal); // the kernel named the element
        Assert.Equal(before, ns.Ruleset());
        Assert.Equal([existing, other], table.List().OrderBy(x => x.PublicPort).ToList());
    }

    [Fact]
    public void Update_RemoveAbsentEntry_SucceedsWithoutChange()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var kept = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1");
        table.Update([], [kept]);

        table.Update([Entries.Tcp(30005, Entries.Client2, 8080, "peer-2")], []);

        Assert.Equal(kept, Assert.Single(table.List()));
    }

    [Fact]
    public void Update_RemoveWithWrongTarget_ThrowsAndKeepsEntry()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var kept = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1");
        table.Update([], [kept]);

        // Removing "someone else's" version of the key must not delete the real one.
        Assert.Throws<ForwardingTableException>(() => table.Update([Entries.Tcp(30000, Entries.Client2, 8080, "peer-2")], []));

        Assert.Equal(kept, Assert.Single(table.List()));
    }

    [Fact]
    public void Update_LeaseExpiredInKernel_ListedOwnerlessAndRemovable()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var entry = Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromSeconds(1));
        table.Update([], [entry]);
        Thread.Sleep(TimeSpan.FromSeconds(2.5));

        var orphan = Assert.Single(table.List());
        Assert.Equal(string.Empty, orphan.Owner);
        Assert.Equal(TimeSpan.Zero, orphan.Timeout);

        // Passed back exactly as listed (no owner, zero timeout), as reconciliation does.
        table.Update([orphan], []);
        Assert.Empty(table.List());
    }

    [Fact]
    public void Update_ListedEntriesPassedBack_RemovesThemAll()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        table.Update([], [
            Entries.Tcp(30000, Entries.Client1, 8080, "peer-1", TimeSpan.FromMinutes(5)),
            Entries.Udp(30001, Entries.Client2, 5000, "peer-2"),
        ]);

        table.Update(table.List().ToList(), []);

        Assert.Empty(table.List());
        Assert.DoesNotContain(" : 10.99.0.", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Update_InvalidOwner_ThrowsBeforeTouchingKernel()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        var before = ns.Ruleset();

        Assert.Throws<ArgumentException>(() => table.Update([], [
            Entries.Tcp(30000, Entries.Client1, 8080, "peer-1"),
            Entries.Tcp(30001, Entries.Client1, 8080, "x\" } ; delete table ip portcullis ; #"),
        ]));

        Assert.Equal(before, ns.Ruleset());
    }

    [Fact]
    public void Update_DuplicateKeyInOneList_Throws()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);

        Assert.Throws<ArgumentException>(() => table.Update([], [
            Entries.Tcp(30000, Entries.Client1, 8080, "peer-1"),
            Entries.Tcp(30000, Entries.Client2, 8080, "peer-2"),
        ]));
        Assert.Empty(table.List());
    }

    [Fact]
    public void Uninstall_RemovesTableAndIsIdempotent()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        using var table = InstalledTable(ns);
        table.Update([], [Entries.Tcp(30000, Entries.Client1, 8080, "peer-1")]);

        table.Uninstall();
        table.Uninstall();

        Assert.DoesNotContain("portcullis", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Install_LeavesOtherTablesAlone()
    {
        using var ns = new TestNamespace("pcgk-tbl");
        ns.Exec("nft", "add table inet other; add chain inet other c { type filter hook input priority 0; }");
        using var table = InstalledTable(ns);

        table.Uninstall();

        Assert.Contains("table inet other", ns.Ruleset(), StringComparison.Ordinal);
    }
}
