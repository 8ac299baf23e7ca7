using System.Globalization;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Ipv6;

/// <summary>Stock <c>nc</c> (netcat-openbsd) over IPv6: a service that prints what it is sent, a sender, a probe.</summary>
internal static class Nc6
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(50);

    // Stock nc keeping its listening socket (-k) and printing what each connection sent; up once the socket listens.
    public static async Task<LabProcess> ListenAsync(LabHost host, int port)
    {
        var text = port.ToString(CultureInfo.InvariantCulture);
        var listener = host.Start("nc", "-6", "-l", "-k", text);
        await Wait.ForStartAsync(listener, $"{host.Name}'s nc on {port}",
            async () => (await host.RunAsync("ss", "-H", "-6", "-tln", $"sport = :{text}")).Stdout.Contains(text, StringComparison.Ordinal),
            Generous, Poll, "did not listen");
        return listener;
    }

    // Stock nc sends one line and closes; the event waited for is the line in the listener's output.
    // source: the address to connect from (nc -s), else the kernel's choice.
    public static async Task SendAsync(LabHost from, string address, int port, string line, LabProcess listener, Func<string> diagnostics,
        string? source = null)
    {
        var bind = source is null ? "" : $"-s {source} ";
        var sent = await from.RunAsync(["sh", "-c", $"echo {line} | nc -6 -N -w 5 {bind}{address} {port.ToString(CultureInfo.InvariantCulture)}"],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(12) });
        Assert.True(sent.Succeeded, $"{from.Name}'s nc to [{address}]:{port}: {sent}\n{diagnostics()}");
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(listener.Output.Contains(line, StringComparison.Ordinal)), Generous, Poll),
            $"{line} did not arrive\n{listener}\n{diagnostics()}");
    }

    // Whether a TCP connection opens within 2 s: a dropped SYN is silent, so absence can only be a timeout.
    public static async Task<bool> ConnectsAsync(LabHost from, string address, int port, string? source = null)
    {
        string[] bind = source is null ? [] : ["-s", source];
        var result = await from.RunAsync(["nc", "-6", "-z", "-w", "2", .. bind, address, port.ToString(CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(12) });
        return result.Succeeded;
    }
}
