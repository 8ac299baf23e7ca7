using System.Diagnostics;
using System.Globalization;
using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;
using Xunit.Abstractions;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Deleting by original destination with the kernel-filtered dump (CTA_FILTER) and with the whole-table dump it
/// falls back to: the same entries go either way, and unrelated entries — few or thousands — stay. Entries are made
/// with `conntrack -I`, each test in a namespace of its own.
/// </summary>
public sealed class ConntrackFilterTests(ITestOutputHelper output)
{
    private const string Public = "198.51.100.10";
    private const string OtherPublic = "198.51.100.11";
    private const int Unrelated = 5000;
    private const int Chunk = 500;

    private static string Insert(string protocol, string source, string destination, int sourcePort, int destinationPort)
    {
        var state = protocol == "tcp" ? " --state ESTABLISHED -u SEEN_REPLY" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"conntrack -I -p {protocol} -s {source} -d {destination} --sport {sourcePort} --dport {destinationPort} -t 300{state}");
    }

    private static void Track(TestNamespace ns, string protocol, string source, string destination, int sourcePort, int destinationPort) =>
        ns.Exec(["sh", "-c", Insert(protocol, source, destination, sourcePort, destinationPort) + " >/dev/null 2>&1"]);

    // Unrelated flows: other ports on the public address, both protocols, and the matching port on another address.
    private static void TrackUnrelated(TestNamespace ns)
    {
        for (var start = 0; start < Unrelated; start += Chunk)
        {
            var script = new System.Text.StringBuilder("set -e\n");
            for (var i = start; i < start + Chunk; i++)
            {
                var protocol = i % 2 == 0 ? "tcp" : "udp";
                var destination = i % 5 == 0 ? OtherPublic : Public;
                var destinationPort = i % 5 == 0 ? 30000 : 1000 + i;
                script.Append(Insert(protocol, "192.0.2.1", destination, 10000 + i, destinationPort)).Append(" >/dev/null 2>&1\n");
            }
            ns.Exec(["sh", "-c", script.ToString()]);
        }
    }

    private static string[] Flows(TestNamespace ns) =>
        ns.Exec(["conntrack", "-L"]).Split('\n')
            .Where(l => l.StartsWith("tcp", StringComparison.Ordinal) || l.StartsWith("udp", StringComparison.Ordinal))
            .ToArray();

    private static bool Has(string[] flows, string protocol, string destination, int port) =>
        flows.Any(l => l.StartsWith(protocol, StringComparison.Ordinal)
            && l.Contains(string.Create(CultureInfo.InvariantCulture, $"dst={destination} sport="), StringComparison.Ordinal)
            && l.Contains(string.Create(CultureInfo.InvariantCulture, $"dport={port} "), StringComparison.Ordinal));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Delete_KernelFilterOrWholeTable_OnlyMatchingEntriesGo(bool kernelFilter)
    {
        using var ns = new TestNamespace("pcgk-ctf");
        Track(ns, "tcp", "192.0.2.100", Public, 40000, 30000);
        Track(ns, "tcp", "192.0.2.101", Public, 40001, 30000);
        Track(ns, "tcp", "192.0.2.100", Public, 40000, 30001);   // other port
        Track(ns, "udp", "192.0.2.100", Public, 40000, 30000);   // other protocol
        Track(ns, "tcp", "192.0.2.100", OtherPublic, 40000, 30000); // other address
        Track(ns, "udp", "192.0.2.100", Public, 40000, 30002);
        using var conntrack = ns.Run(() => new Conntrack());
        conntrack.KernelFilter = kernelFilter;

        var deleted = conntrack.Delete([
            new OriginalDestination("tcp", Entries.Public, 30000),
            new OriginalDestination("udp", Entries.Public, 30002),
        ]);

        Assert.Equal(3, deleted);
        var flows = Flows(ns);
        Assert.Equal(3, flows.Length);
        Assert.False(Has(flows, "tcp", Public, 30000));
        Assert.False(Has(flows, "udp", Public, 30002));
        Assert.True(Has(flows, "tcp", Public, 30001));
        Assert.True(Has(flows, "udp", Public, 30000));
        Assert.True(Has(flows, "tcp", OtherPublic, 30000));
        Assert.Equal(kernelFilter, conntrack.KernelFilter); // this 6.x kernel takes the filter: no fallback happened
    }

    // Ports of one address and protocol share a dump filtered without port; the ports are then matched here.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Delete_SeveralPortsOfOneAddress_OnlyThosePortsGo(bool kernelFilter)
    {
        using var ns = new TestNamespace("pcgk-ctp");
        Track(ns, "tcp", "192.0.2.100", Public, 40000, 30000);
        Track(ns, "tcp", "192.0.2.100", Public, 40000, 30001);
        Track(ns, "tcp", "192.0.2.100", Public, 40000, 30002);      // other port
        Track(ns, "udp", "192.0.2.100", Public, 40000, 30000);      // other protocol
        Track(ns, "tcp", "192.0.2.100", OtherPublic, 40000, 30001); // other address
        using var conntrack = ns.Run(() => new Conntrack());
        conntrack.KernelFilter = kernelFilter;

        var deleted = conntrack.Delete([
            new OriginalDestination("tcp", Entries.Public, 30000),
            new OriginalDestination("tcp", Entries.Public, 30001),
        ]);

        Assert.Equal(2, deleted);
        var flows = Flows(ns);
        Assert.Equal(3, flows.Length);
        Assert.False(Has(flows, "tcp", Public, 30000));
        Assert.False(Has(flows, "tcp", Public, 30001));
        Assert.True(Has(flows, "tcp", Public, 30002));
        Assert.True(Has(flows, "udp", Public, 30000));
        Assert.True(Has(flows, "tcp", OtherPublic, 30001));
        Assert.Equal(kernelFilter, conntrack.KernelFilter);
    }

    [Fact]
    public void Delete_ThousandsOfUnrelatedEntries_SameDeletionsAndTimed()
    {
        using var ns = new TestNamespace("pcgk-ctbig");
        var warnings = new List<string>();
        using var conntrack = ns.Run(() => new Conntrack(warnings.Add));
        var empty = Median(ns, conntrack, kernelFilter: true);
        TrackUnrelated(ns);
        Assert.Equal(Unrelated, Flows(ns).Length);

        var filtered = Median(ns, conntrack, kernelFilter: true);
        var whole = Median(ns, conntrack, kernelFilter: false);

        var flows = Flows(ns);
        Assert.Equal(Unrelated, flows.Length);
        Assert.False(Has(flows, "tcp", Public, 30000));
        Assert.True(Has(flows, "tcp", OtherPublic, 30000));
        Assert.Empty(warnings);
        // Both dumps walk every hash bucket in the kernel (nf_conntrack_buckets of them), a cost fixed by the table's
        // capacity; only the whole-table dump also copies, parses and receives every entry.
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"delete 2 flows, median of {Rounds}: kernel-filtered dump {empty:F2} ms with no other entry, {filtered:F2} ms with {Unrelated} unrelated; whole-table dump {whole:F2} ms with {Unrelated} unrelated"));
    }

    private const int Rounds = 9;

    // Median time to delete two fresh matching flows; asserts both go each time.
    private static double Median(TestNamespace ns, Conntrack conntrack, bool kernelFilter)
    {
        var times = new double[Rounds];
        conntrack.KernelFilter = kernelFilter;
        for (var round = 0; round < Rounds; round++)
        {
            Track(ns, "tcp", "192.0.2.100", Public, 40000, 30000);
            Track(ns, "tcp", "192.0.2.101", Public, 40001, 30000);
            var clock = Stopwatch.StartNew();
            var deleted = conntrack.Delete(new OriginalDestination("tcp", Entries.Public, 30000));
            times[round] = clock.Elapsed.TotalMilliseconds;
            Assert.Equal(2, deleted);
        }
        Array.Sort(times);
        return times[Rounds / 2];
    }
}
