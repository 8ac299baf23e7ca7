using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Portcullis.Gateway.Tests.Kernel.Support;
using Xunit.Abstractions;
using static Portcullis.Gateway.Tests.Kernel.Support.Entries;

namespace Portcullis.Gateway.Tests.Kernel;

/// <summary>
/// How long an established flow outlives its mapping, measured on a real connection: a stock TCP client (nc, from
/// netcat-openbsd) in the remote namespace, through a mapping, to a listener in a client namespace. The bound is
/// checked on the kernel's own events as a stock observer (conntrack -E) stamped them — waited for with a generous
/// timeout, then measured — never by sleeping.
/// </summary>
public sealed class FlowSurvivalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);
    /// <summary>The bound the issue sets (12, part 4): commit → old flow ended.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task RemoveMapping_StockClientsEstablishedFlow_EndedWithinBoundOfTheCommit()
    {
        using var lab = new ForwardingLab();
        var mapping = Tcp(30000, Client1, 8080, "peer-1");
        lab.Table.Update([], [mapping]);
        using var listener = ForwardingLab.TcpListener(lab.Client1, 8080);
        using var watch = ConntrackWatch.Start(lab.Gateway);
        using var nc = StartClient(lab.Remote, "198.51.100.10", 30000);
        try
        {
            await nc.StandardInput.WriteLineAsync("before");
            await nc.StandardInput.FlushAsync();
            using var accepted = await AcceptAsync(listener);
            Assert.Equal("before\n", await ReceiveAsync(accepted));
            Assert.NotNull(watch.TryWaitFor(l => Is(l, "[NEW]"), Generous));

            var committing = (DateTime.UtcNow - DateTime.UnixEpoch).TotalSeconds;
            var timer = Stopwatch.StartNew();
            lab.Table.Update([mapping], []);
            var returned = timer.Elapsed;
            var destroyed = watch.TryWaitFor(l => Is(l, "[DESTROY]"), Generous);

            Assert.NotNull(destroyed);
            var survived = TimeSpan.FromSeconds(ConntrackWatch.Stamp(destroyed) - committing);
            output.WriteLine($"Update returned after {returned.TotalMilliseconds:F2} ms; the flow ended {survived.TotalMilliseconds:F2} ms after the commit began");
            Assert.True(survived <= Bound, $"the old flow lived {survived.TotalMilliseconds:F1} ms after its mapping's commit (bound {Bound.TotalMilliseconds} ms)");
            // And it is over for the client: what it sends now no longer reaches the old owner.
            await nc.StandardInput.WriteLineAsync("after");
            await nc.StandardInput.FlushAsync();
            Assert.Null(await Net.TryReceive(accepted));
        }
        finally
        {
            if (!nc.HasExited)
                nc.Kill();
            nc.WaitForExit(10_000);
        }
    }

    // The remote side's flow to the mapping in conntrack -E's line format.
    private static bool Is(string line, string kind) =>
        line.Contains(kind, StringComparison.Ordinal)
        && line.Contains("src=198.51.100.100 dst=198.51.100.10 ", StringComparison.Ordinal)
        && line.Contains(" dport=30000 ", StringComparison.Ordinal);

    private static Process StartClient(KernelNamespace ns, string address, ushort port)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["netns", "exec", ns.Name, "nc", address, port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
            start.ArgumentList.Add(argument);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start nc");
    }

    private static async Task<Socket> AcceptAsync(Socket listener)
    {
        using var cts = new CancellationTokenSource(Generous);
        return await listener.AcceptAsync(cts.Token);
    }

    private static async Task<string> ReceiveAsync(Socket socket)
    {
        var buffer = new byte[64];
        using var cts = new CancellationTokenSource(Generous);
        var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buffer, 0, n);
    }
}
