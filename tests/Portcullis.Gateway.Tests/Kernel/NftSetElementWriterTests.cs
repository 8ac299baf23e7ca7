using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// The netlink element writer against the real kernel, each test in a namespace of its own, read back by the stock nft
/// tool: every element written here is compared with the same element written by nft's own text in a twin set.
/// </summary>
public sealed class NftSetElementWriterTests
{
    private const string Declarations = """
        add table ip t
        add map ip t ours { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
        add map ip t nfts { type ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service; }
        add set ip t lours { type ipv4_addr . inet_proto . inet_service; flags timeout; }
        add set ip t lnfts { type ipv4_addr . inet_proto . inet_service; flags timeout; }
        add table ip6 t6
        add map ip6 t6 ours { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
        add map ip6 t6 nfts { type ipv6_addr . inet_proto . inet_service : ipv6_addr . inet_service; }
        add set ip t rours { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags interval, timeout; }
        add set ip t rnfts { type ipv4_addr . inet_service . ipv4_addr . inet_service; flags interval, timeout; }
        """;

    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress Client = IPAddress.Parse("10.99.0.2");

    private static NftConcat Key(ushort port, byte protocol = 6) => NftConcat.Empty.Ipv4(Public).Protocol(protocol).Service(port);

    private static NftConcat Target(ushort port) => NftConcat.Empty.Ipv4(Client).Service(port);

    // One batch of adds to map "ours" (a port and its target port each), committed.
    private static void AddMappings(NftSetElementWriter writer, params (ushort Port, ushort Target)[] elements)
    {
        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "ours");
        foreach (var (port, target) in elements)
            writer.Element(Key(port), Target(target), null, null, tag: port);
        writer.Commit();
    }

    private static TestNamespace Prepared(out NftSetElementWriter writer)
    {
        var ns = new TestNamespace("pcgk-nlw");
        try
        {
            ns.Exec("nft", Declarations);
            writer = ns.Run(() => new NftSetElementWriter());
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    // nft -j's elements of one set or map, with the ever-changing "expires" taken out.
    private static string Elements(TestNamespace ns, string what)
    {
        var json = JsonNode.Parse(ns.Exec(["nft", "-j", "list", .. what.Split(' ')]))!["nftables"]!.AsArray();
        var body = json.Select(item => item!.AsObject()).Single(item => item.ContainsKey("map") || item.ContainsKey("set"));
        var elements = (body["map"] ?? body["set"])!["elem"]?.AsArray() ?? [];
        foreach (var element in elements)
            (element as JsonObject)?["elem"]?.AsObject().Remove("expires");
        return elements.ToJsonString();
    }

    [Fact]
    public void Commit_MapAndLeaseElements_ReadBackByNftAsItsOwn()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;

        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "ours");
        writer.Element(Key(30000), Target(8080), null, null, tag: 0);
        writer.Element(Key(30001, protocol: 17), Target(5000), null, null, tag: 1);
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "lours");
        writer.Element(Key(30000), NftConcat.Empty, TimeSpan.FromHours(1), "peer-1", tag: 2);
        writer.Element(Key(30001, protocol: 17), NftConcat.Empty, null, "peer-2", tag: 3);
        writer.Element(Key(30002), NftConcat.Empty, TimeSpan.FromMilliseconds(90_500.2), null, tag: 4);
        writer.Commit();
        ns.Exec("nft", """
            add element ip t nfts { 198.51.100.10 . tcp . 30000 : 10.99.0.2 . 8080, 198.51.100.10 . udp . 30001 : 10.99.0.2 . 5000 }
            add element ip t lnfts { 198.51.100.10 . tcp . 30000 timeout 1h comment "peer-1", 198.51.100.10 . udp . 30001 comment "peer-2", 198.51.100.10 . tcp . 30002 timeout 90501ms }
            """);

        var map = Elements(ns, "map ip t ours");
        Assert.Equal(Elements(ns, "map ip t nfts"), map);
        Assert.Contains("""[{"concat":["198.51.100.10","tcp",30000]},{"concat":["10.99.0.2",8080]}]""", map, StringComparison.Ordinal);
        var leases = Elements(ns, "set ip t lours");
        Assert.Equal(Elements(ns, "set ip t lnfts"), leases);
        Assert.Contains("\"timeout\":3600", leases, StringComparison.Ordinal);
        Assert.Contains("\"comment\":\"peer-1\"", leases, StringComparison.Ordinal);
        Assert.Contains("198.51.100.10 . tcp . 30000 timeout 1h", ns.Ruleset(), StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_Ipv6Concatenation_ReadBackByNftAsItsOwn()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;

        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip6, "t6", "ours");
        writer.Element(
            NftConcat.Empty.Ipv6(IPAddress.Parse("2001:db8::10")).Protocol(6).Service(443),
            NftConcat.Empty.Ipv6(IPAddress.Parse("fd00:99::2")).Service(8443), null, null, tag: 0);
        writer.Commit();
        ns.Exec("nft", "add element ip6 t6 nfts { 2001:db8::10 . tcp . 443 : fd00:99::2 . 8443 }");

        Assert.Equal(Elements(ns, "map ip6 t6 nfts"), Elements(ns, "map ip6 t6 ours"));
    }

    [Fact]
    public void Commit_RangesOfAConcatenation_ReadBackByNftAsItsOwn_AndDeleteByTheirBounds()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        var at = IPAddress.Parse("198.51.100.10");
        NftConcat Bound(string remote, ushort port) =>
            NftConcat.Empty.Ipv4(at).Service(30000).Ipv4(IPAddress.Parse(remote)).Service(port);

        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "rours");
        writer.Range(Bound("203.0.113.0", 0), Bound("203.0.113.255", 65535), TimeSpan.FromMinutes(2), "peer-1", tag: 0);
        writer.Range(Bound("192.0.2.7", 443), Bound("192.0.2.7", 443), null, null, tag: 1);
        writer.Commit();
        ns.Exec("nft", """
            add element ip t rnfts { 198.51.100.10 . 30000 . 203.0.113.0/24 . 0-65535 timeout 2m comment "peer-1", 198.51.100.10 . 30000 . 192.0.2.7 . 443 }
            """);

        var ranges = Elements(ns, "set ip t rours");
        Assert.Equal(Elements(ns, "set ip t rnfts"), ranges);
        Assert.Contains("""{"prefix":{"addr":"203.0.113.0","len":24}},{"range":[0,65535]}""", ranges, StringComparison.Ordinal);

        writer.Begin();
        writer.Open(NftElementVerb.Delete, NftFamily.Ip, "t", "rours");
        writer.Range(Bound("203.0.113.0", 0), Bound("203.0.113.255", 65535), null, null, tag: 0);
        writer.Commit();
        var left = Elements(ns, "set ip t rours");
        Assert.DoesNotContain("203.0.113.0", left, StringComparison.Ordinal);
        Assert.Contains("192.0.2.7", left, StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_DeleteOfMissingElement_FailsWholeBatchAndKeepsPreviousElements()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        AddMappings(writer, (30000, 8080), (30001, 8081));
        var before = Elements(ns, "map ip t ours");

        // An add, a good delete, then a delete of an element that is not there: all or nothing.
        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "ours");
        writer.Element(Key(30002), Target(8082), null, null, tag: 10);
        writer.Open(NftElementVerb.Delete, NftFamily.Ip, "t", "ours");
        writer.Element(Key(30000), NftConcat.Empty, null, null, tag: 11);
        writer.Element(Key(30009), NftConcat.Empty, null, null, tag: 12);
        var e = Assert.Throws<NftBatchException>(writer.Commit);

        Assert.Equal(2, e.Errno); // ENOENT
        Assert.Equal(12, e.Tag);
        Assert.Contains("No such file or directory", e.Message, StringComparison.Ordinal);
        Assert.Contains("delete element ip t ours", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Elements(ns, "map ip t ours"));
    }

    [Fact]
    public void Commit_AddOfKeyMappedElsewhere_FailsWholeBatchAndNextBatchWorks()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        AddMappings(writer, (30000, 8080));
        var before = Elements(ns, "map ip t ours");

        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "ours");
        writer.Element(Key(30001), Target(8081), null, null, tag: 1);
        writer.Element(Key(30000), Target(8080), null, null, tag: 2); // the same: no error
        writer.Element(Key(30000), Target(9999), null, null, tag: 3); // another value: EEXIST
        var e = Assert.Throws<NftBatchException>(writer.Commit);

        Assert.Equal(17, e.Errno);
        Assert.Equal(3, e.Tag);
        Assert.Equal(before, Elements(ns, "map ip t ours"));

        // The socket holds no stale answer: the next batch reads its own.
        AddMappings(writer, (30001, 8081));
        Assert.Contains("30001", Elements(ns, "map ip t ours"), StringComparison.Ordinal);
    }

    [Fact]
    public void Commit_MissingTable_Fails()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "absent", "ours");
        writer.Element(Key(30000), Target(8080), null, null, tag: 0);

        var e = Assert.Throws<NftBatchException>(writer.Commit);

        Assert.Equal(2, e.Errno);
    }

    [Fact]
    public void Commit_ManyElements_SplitIntoMessagesAndAllWritten()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        const int count = 5000; // ~170 KiB of leases with comments: several messages, one batch

        writer.Begin();
        writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "lours");
        for (var i = 0; i < count; i++)
            writer.Element(Key((ushort)(20000 + i)), NftConcat.Empty, TimeSpan.FromHours(1), $"peer-{i}-with-a-longer-owner-name", i);
        writer.Commit();

        using var listed = JsonDocument.Parse(ns.Exec("nft", "-j", "list", "set", "ip", "t", "lours"));
        var set = listed.RootElement.GetProperty("nftables").EnumerateArray().Single(item => item.TryGetProperty("set", out _));
        Assert.Equal(count, set.GetProperty("set").GetProperty("elem").GetArrayLength());
    }

    [Fact]
    public void Element_SteadyState_AllocatesNothing()
    {
        using var ns = Prepared(out var writer);
        using var owned = writer;
        const string owner = "peer-1";
        void Batch()
        {
            writer.Begin();
            writer.Open(NftElementVerb.Add, NftFamily.Ip, "t", "lours");
            for (var i = 0; i < 256; i++)
                writer.Element(Key((ushort)(20000 + i)), NftConcat.Empty, TimeSpan.FromHours(1), owner, i);
            writer.Open(NftElementVerb.Delete, NftFamily.Ip, "t", "lours");
            for (var i = 0; i < 256; i++)
                writer.Element(Key((ushort)(20000 + i)), NftConcat.Empty, null, null, i);
        }
        Batch(); // the first batch sizes the reused buffers
        writer.Commit();

        var before = GC.GetAllocatedBytesForCurrentThread();
        Batch();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        writer.Commit();

        Assert.Equal(0, allocated);
    }
}
