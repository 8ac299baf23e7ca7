using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Portcullis.Client.Metrics;
using Portcullis.Client.Status;

namespace Portcullis.Client.Tests.Metrics;

public sealed class ClientMetricsTests
{
    private static readonly DateTimeOffset Handshake = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ClientState State => new()
    {
        Interface = "pc7",
        Pid = 4242,
        ConfigPath = "/etc/portcullis/clients/home.conf",
        Started = Handshake.AddMinutes(-5),
        Phase = "up",
        Forward = "both:8080",
        ForwardedPort = "41234",
        LeaseExpires = "2026-12-07T12:10:00.0000000+00:00",
        Reachability = "reachable",
    };

    private static IReadOnlyList<PeerStatus> Peers() => [new("ab", "198.51.100.10:51820", Handshake, 5678, 1234)];

    [Fact]
    public async Task Scrape_OverLoopbackHttp_PromtoolAcceptsItAndItSaysWhatStatusSays()
    {
        var port = FreePort();
        using var metrics = new ClientMetrics(() => State, Peers, new IPEndPoint(IPAddress.Loopback, port));
        using var http = new HttpClient();

        var text = await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/metrics"));

        var (exitCode, complaints) = await PromtoolAsync(text);
        Assert.True(exitCode == 0 && complaints.Length == 0, $"promtool: {complaints}\n{text}");
        Assert.Contains("portcullis_client_up{interface=\"pc7\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("portcullis_client_forwarded_port{interface=\"pc7\"} 41234", text, StringComparison.Ordinal);
        Assert.Contains("portcullis_client_port_reachable{interface=\"pc7\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("portcullis_client_received_bytes_total{interface=\"pc7\"} 5678", text, StringComparison.Ordinal);
        Assert.Contains($"portcullis_client_latest_handshake_timestamp_seconds{{interface=\"pc7\"}} {Handshake.ToUnixTimeSeconds()}", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Listen_NotLoopback_Refused()
    {
        Assert.Throws<ArgumentException>(() => new ClientMetrics(() => State, Peers, new IPEndPoint(IPAddress.Parse("198.51.100.7"), 9587)));
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<(int ExitCode, string Output)> PromtoolAsync(string exposition)
    {
        var start = new ProcessStartInfo("promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        await process.WaitForExitAsync();
        return (process.ExitCode, (await stdout + await stderr).Trim());
    }
}
