using System.Globalization;
using System.Text;
using System.Text.Json;
using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// One iperf3 run between two lab hosts (server `-s -1`, client `-J --get-server-output`), read back as the bytes each
/// end saw per half-second interval. A stall — a tunnel that moves a burst and then nothing — shows as an interval
/// without bytes, which <see cref="IperfRun.AssertNoStall"/> turns into a failure.
/// </summary>
internal static class Iperf
{
    public const int Port = 5201;
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Runs <paramref name="seconds"/> of TCP, or of UDP as fast as it goes (`-b 0`, as the netns suite does), from client to server.</summary>
    public static async Task<IperfRun> RunAsync(LabHost server, LabHost client, string address, bool udp, int seconds)
    {
        var listener = server.Start("iperf3", "-s", "-1", "-J", "-B", address, "-p", Port.ToString(CultureInfo.InvariantCulture));
        await Wait.ForStartAsync(listener, "iperf3 server", () => ListensAsync(server), TimeSpan.FromSeconds(10),
            TimeSpan.FromMilliseconds(50), "did not listen");
        string[] command =
        [
            "iperf3", "-c", address, "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-t", seconds.ToString(CultureInfo.InvariantCulture),
            "-i", Interval.TotalSeconds.ToString(CultureInfo.InvariantCulture), "-J", "--get-server-output",
            .. udp ? new[] { "-u", "-b", "0" } : [],
        ];
        var result = await client.RunAsync(command, RunOptions.Default with { Timeout = TimeSpan.FromSeconds(seconds + 30) });
        await listener.DisposeAsync();
        var what = $"{(udp ? "UDP" : "TCP")} {client.Name} → {server.Name} {address}";
        return IperfRun.Parse(what, result);
    }

    private static async Task<bool> ListensAsync(LabHost host)
    {
        var sockets = await host.RunAsync("ss", "-H", "-tln", $"sport = :{Port}");
        return sockets.Stdout.Contains($":{Port}", StringComparison.Ordinal);
    }
}

/// <summary>What one iperf3 run moved: per interval at the sender and at the receiver, and in total.</summary>
internal sealed record IperfRun(
    string What,
    IReadOnlyList<(double Seconds, long Bytes)> Sent,
    IReadOnlyList<(double Seconds, long Bytes)> Received,
    long SentBytes,
    long ReceivedBytes)
{
    /// <summary>Received bits per second over the whole run.</summary>
    public double ReceivedBitsPerSecond => Received.Sum(i => i.Seconds) is var s and > 0 ? ReceivedBytes * 8 / s : 0;

    public static IperfRun Parse(string what, CommandResult result)
    {
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(result.Stdout);
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{what}: iperf3 gave no JSON\n{result}");
        }
        using (json)
        {
            var root = json.RootElement;
            if (root.TryGetProperty("error", out var error))
                throw new Xunit.Sdk.XunitException($"{what}: iperf3 failed: {error.GetString()}\n{result}");
            if (!root.TryGetProperty("server_output_json", out var server))
                throw new Xunit.Sdk.XunitException($"{what}: no server output in iperf3's JSON\n{result}");
            var sent = Intervals(root);
            var received = Intervals(server);
            return new IperfRun(what, sent, received, sent.Sum(i => i.Bytes), received.Sum(i => i.Bytes));
        }
    }

    /// <summary>
    /// Fails unless every interval moved bytes at both ends, but the receiver's last (which may only wait for the
    /// end of the test). A stall — data in the first second, then none — fails here however much that second moved.
    /// </summary>
    public void AssertNoStall()
    {
        if (Sent.Count == 0 || Received.Count == 0 || ReceivedBytes == 0 || HasEmptyInterval(Sent) ||
            HasEmptyInterval(Received.Take(Received.Count - 1)))
            throw new Xunit.Sdk.XunitException($"{What}: stalled\n{this}");
    }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{What}: sent {SentBytes} B, received {ReceivedBytes} B ({ReceivedBitsPerSecond / 1e6:F0} Mbit/s)");
        text.AppendLine($"  sent per interval:     {string.Join(' ', Sent.Select(i => i.Bytes))}");
        text.AppendLine($"  received per interval: {string.Join(' ', Received.Select(i => i.Bytes))}");
        return text.ToString();
    }

    private static bool HasEmptyInterval(IEnumerable<(double Seconds, long Bytes)> intervals) =>
        intervals.Any(i => i.Bytes == 0 && i.Seconds >= 0.1);

    private static List<(double Seconds, long Bytes)> Intervals(JsonElement report)
    {
        var list = new List<(double Seconds, long Bytes)>();
        if (!report.TryGetProperty("intervals", out var intervals))
            return list;
        foreach (var interval in intervals.EnumerateArray())
        {
            var sum = interval.GetProperty("sum");
            list.Add((sum.GetProperty("seconds").GetDouble(), sum.GetProperty("bytes").GetInt64()));
        }
        return list;
    }
}
