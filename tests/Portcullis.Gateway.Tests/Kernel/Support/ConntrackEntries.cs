using System.Globalization;
using System.Net;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>Conntrack entries made with `conntrack -I` (shaped like a mapping's DNATed flow or not) and events read back.</summary>
internal static class ConntrackEntries
{
    /// <summary>A flow 192.0.2.100:<paramref name="sourcePort"/> → 198.51.100.10:<paramref name="port"/>, DNATed to <paramref name="target"/> on the same port unless told otherwise (reply tuples must be unique too).</summary>
    public static string Insert(string protocol, int port, int sourcePort, bool natted = true, string destination = "198.51.100.10",
        string target = "10.99.0.2", string source = "192.0.2.100")
    {
        var state = protocol == "tcp" ? " --state ESTABLISHED -u SEEN_REPLY" : "";
        var reply = natted
            ? string.Create(CultureInfo.InvariantCulture, $"-r {target} -q {source} --reply-port-src {port} --reply-port-dst {sourcePort}")
            : string.Create(CultureInfo.InvariantCulture, $"-r {destination} -q {source} --reply-port-src {port} --reply-port-dst {sourcePort}");
        return string.Create(CultureInfo.InvariantCulture,
            $"conntrack -I -p {protocol} -s {source} -d {destination} --sport {sourcePort} --dport {port} {reply} -t 300{state} >/dev/null 2>&1");
    }

    /// <summary>The IPv6 flow 2001:db8:2::100 → 2001:db8:1::a (NAT66's public address), DNATed to the peer fd99::2 unless told otherwise.</summary>
    public static string Insert6(string protocol, int port, int sourcePort, bool natted = true, string destination = "2001:db8:1::a",
        string target = "fd99::2") =>
        Insert(protocol, port, sourcePort, natted, destination, target, source: "2001:db8:2::100");

    public static void Track(TestNamespace ns, params string[] inserts) =>
        ns.Exec(["sh", "-c", "set -e\n" + string.Join('\n', inserts)]);

    /// <summary>Lines of `conntrack -L` for TCP and UDP.</summary>
    public static string[] Flows(TestNamespace ns, bool ipv6 = false) =>
        ns.Exec(["conntrack", "-L", "-f", ipv6 ? "ipv6" : "ipv4"]).Split('\n')
            .Where(l => l.StartsWith("tcp", StringComparison.Ordinal) || l.StartsWith("udp", StringComparison.Ordinal))
            .ToArray();

    public static bool Has(string[] flows, string protocol, int port, int sourcePort) =>
        flows.Any(l => l.StartsWith(protocol, StringComparison.Ordinal)
            && l.Contains(string.Create(CultureInfo.InvariantCulture, $"sport={sourcePort} dport={port} "), StringComparison.Ordinal));

    /// <summary>Reads events until one matches (collecting all read), or 10 s pass; the match or null.</summary>
    public static ConntrackEvent? ReadUntil(ConntrackEvents events, Func<ConntrackEvent, bool> match, List<ConntrackEvent>? seen = null)
    {
        var buffer = new ConntrackEvent[256];
        var deadline = Environment.TickCount64 + 10_000;
        while (Environment.TickCount64 < deadline)
        {
            var read = events.Read(buffer);
            for (var i = 0; i < read.Count; i++)
            {
                seen?.Add(buffer[i]);
                if (match(buffer[i]))
                    return buffer[i];
            }
            if (read.Count == 0)
                Thread.Sleep(5); // polling a non-blocking socket for an event, bounded by the deadline
        }
        return null;
    }

    public static UInt128 Address(string text) => FlowAddress.Of(IPAddress.Parse(text));
}
