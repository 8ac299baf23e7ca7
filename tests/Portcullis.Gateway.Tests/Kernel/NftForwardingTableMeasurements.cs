using System.Diagnostics;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Tests.Kernel.Support;
using Xunit.Abstractions;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// Latency of the table's transactions against the real kernel (printed with `dotnet test --logger
/// "console;verbosity=detailed"`). The bounds are loose — ten times what this machine measures — so the tests catch
/// a regression in kind (a spawn per element, a rule per mapping), not noise.
/// </summary>
public sealed class NftForwardingTableMeasurements(ITestOutputHelper output)
{
    private const int Singles = 300;
    private const int Bulk = 20_000;

    [Fact]
    public void Update_OneElementTransactions_FastAndFlat()
    {
        using var ns = new TestNamespace("pcgk-perf");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network());

        var add = new double[Singles];
        var refresh = new double[Singles];
        for (var i = 0; i < Singles; i++)
        {
            var entry = Entries.Tcp((ushort)(20000 + i), Entries.Client1, 8080, "p1", TimeSpan.FromMinutes(10));
            add[i] = Time(() => table.Update([], [entry]));
            refresh[i] = Time(() => table.Update([entry], [entry]));
        }
        var removeWithConntrack = new double[20];
        for (var i = 0; i < removeWithConntrack.Length; i++)
        {
            var entry = Entries.Tcp((ushort)(20000 + i), Entries.Client1, 8080, "p1", TimeSpan.FromMinutes(10));
            removeWithConntrack[i] = Time(() => table.Update([entry], []));
        }

        Report("add one element", add);
        Report("refresh one element (delete + add)", refresh);
        Report("remove one element (its flows ended after, off this thread)", removeWithConntrack);
        Assert.True(Percentile(add, 0.5) < 10, "one-element add should take well under 10 ms");
        Assert.True(Percentile(refresh, 0.5) < 10, "one-element refresh should take well under 10 ms");
    }

    [Fact]
    public void Update_TwentyThousandElements_OneTransactionEach()
    {
        using var ns = new TestNamespace("pcgk-perf");
        using var table = ns.Run(() => new NftForwardingTable());
        table.Install(Entries.Network());
        var entries = new List<ForwardingEntry>(Bulk);
        for (var i = 0; i < Bulk; i++)
        {
            var tunnel = new System.Net.IPAddress([10, 99, (byte)(1 + i / 250), (byte)(1 + i % 250)]);
            entries.Add(i % 2 == 0
                ? Entries.Tcp((ushort)(20000 + i), tunnel, 8080, $"p{i}", TimeSpan.FromHours(1))
                : Entries.Udp((ushort)(20000 + i), tunnel, 8080, $"p{i}"));
        }

        var addMs = Time(() => table.Update([], entries));
        IReadOnlyList<ForwardingEntry> listed = [];
        var listMs = Time(() => listed = table.List());
        // The first command after a listing pays for dropping the listing's cache; time the steady state after it.
        var single = Entries.Tcp(60000, Entries.Client1, 8080, "p1", TimeSpan.FromMinutes(10));
        table.Update([], [single]);
        var refreshes = new double[50];
        for (var i = 0; i < refreshes.Length; i++)
            refreshes[i] = Time(() => table.Update([single], [single]));
        var oneMoreMs = Percentile(refreshes, 0.5);
        var removeMs = Time(() => table.Update(entries, []));

        output.WriteLine($"{Bulk} elements added in one transaction: {addMs:F0} ms");
        output.WriteLine($"list of {Bulk} elements (JSON, map + leases): {listMs:F0} ms");
        output.WriteLine($"refresh of one element with {Bulk} present: p50 {oneMoreMs * 1000:F0} µs");
        output.WriteLine($"{Bulk} elements removed in one transaction (their flows ended after, off this thread): {removeMs:F0} ms");
        Assert.Equal(Bulk, listed.Count);
        Assert.Equal(single, Assert.Single(table.List()) with { Timeout = single.Timeout });
        Assert.True(addMs < 10_000, $"adding {Bulk} took {addMs} ms");
        Assert.True(oneMoreMs < 50, $"one element with {Bulk} present took {oneMoreMs} ms");
    }

    private static double Time(Action action)
    {
        var start = Stopwatch.GetTimestamp();
        action();
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
    }

    private static double Percentile(double[] samples, double p)
    {
        var sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        return sorted[(int)Math.Min(sorted.Length - 1, Math.Floor(p * sorted.Length))];
    }

    private void Report(string what, double[] samples) =>
        output.WriteLine($"{what}: p50 {Percentile(samples, 0.5) * 1000:F0} µs, p99 {Percentile(samples, 0.99) * 1000:F0} µs ({samples.Length} runs)");
}
