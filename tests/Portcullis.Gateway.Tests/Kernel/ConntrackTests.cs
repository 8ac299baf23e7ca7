using Portcullis.Gateway.Tests.Kernel.Support;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>The conntrack cleanup on entries made with `conntrack -I`, each test in namespaces of its own.</summary>
public sealed class ConntrackTests
{
    private static void Track(TestNamespace ns, string protocol, ushort port)
    {
        string[] state = protocol == "tcp" ? ["--state", "ESTABLISHED", "-u", "SEEN_REPLY"] : [];
        ns.Exec(["conntrack", "-I", "-p", protocol, "-s", "192.0.2.100", "-d", "198.51.100.10",
            "--sport", "40000", "--dport", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", "300", .. state]);
    }

    private static string Flows(TestNamespace ns) => ns.TryExec("conntrack", "-L").Output;

    [Fact]
    public void Delete_MatchingDestinations_OnlyThoseGo()
    {
        using var ns = new TestNamespace("pcgk-ct");
        Track(ns, "tcp", 30000);
        Track(ns, "udp", 30000);
        Track(ns, "tcp", 30001);
        using var conntrack = ns.Run(() => new Conntrack());

        var deleted = conntrack.Delete([
            new OriginalDestination("tcp", Entries.Public, 30000),
            new OriginalDestination("udp", Entries.Public, 39999),
        ]);

        Assert.Equal(1, deleted);
        var flows = Flows(ns).Split('\n');
        Assert.DoesNotContain(flows, l => l.StartsWith("tcp", StringComparison.Ordinal) && l.Contains("dport=30000 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.StartsWith("udp", StringComparison.Ordinal) && l.Contains("dport=30000 ", StringComparison.Ordinal));
        Assert.Contains(flows, l => l.StartsWith("tcp", StringComparison.Ordinal) && l.Contains("dport=30001 ", StringComparison.Ordinal));
    }

    [Fact]
    public void Delete_NothingMatches_ReturnsZero()
    {
        using var ns = new TestNamespace("pcgk-ct");
        using var conntrack = ns.Run(() => new Conntrack());

        Assert.Equal(0, conntrack.Delete(new OriginalDestination("tcp", Entries.Public, 30000)));
        Assert.Equal(0, conntrack.Delete([]));
    }

    [Fact]
    public void Delete_CalledFromOtherNamespace_ActsInTheCreatingNamespace()
    {
        using var home = new TestNamespace("pcgk-cthome");
        using var away = new TestNamespace("pcgk-ctaway");
        Track(home, "tcp", 30000);
        Track(away, "tcp", 30000);
        using var conntrack = home.Run(() => new Conntrack());

        var deleted = away.Run(() => conntrack.Delete(new OriginalDestination("tcp", Entries.Public, 30000)));

        Assert.Equal(1, deleted);
        Assert.DoesNotContain("dport=30000", Flows(home), StringComparison.Ordinal);
        Assert.Contains("dport=30000", Flows(away), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("icmp")]
    [InlineData("tcp; -F")]
    public void Delete_UnknownProtocol_Rejected(string protocol)
    {
        using var ns = new TestNamespace("pcgk-ct");
        using var conntrack = ns.Run(() => new Conntrack());

        Assert.Throws<ArgumentException>(() => conntrack.Delete(new OriginalDestination(protocol, Entries.Public, 1)));
    }

    [Fact]
    public void Delete_IPv6Destination_Rejected()
    {
        using var ns = new TestNamespace("pcgk-ct");
        using var conntrack = ns.Run(() => new Conntrack());

        Assert.Throws<ArgumentException>(() => conntrack.Delete(new OriginalDestination("tcp", System.Net.IPAddress.IPv6Loopback, 1)));
    }
}
