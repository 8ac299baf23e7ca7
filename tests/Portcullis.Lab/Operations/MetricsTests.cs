using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;
using static Portcullis.Lab.Operations.Exposition;

namespace Portcullis.Lab.Operations;

/// <summary>
/// /metrics, /healthz and /readyz of a real gateway with two stock clients: the scrape passes promtool and counts
/// what the lab did (sessions, traffic, NAT-PMP and PCP answers by result code, mappings, kernel transactions, store
/// calls), names no peer by default, and /readyz follows the device and the kernel table as they are taken away.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class MetricsTests
{
    private const int Tcp = 6;

    [Fact]
    public async Task Scrape_AfterTrafficAndPortRequests_PromtoolCleanCountsWhatHappenedAndReadinessFollowsTheKernel()
    {
        await using var lab = await MetricsLab.StartAsync();
        await using var listener = await Probes.ListenAsync(lab.ClientA, "tcp", 8080);
        var natPmpPort = await NatPmpClient.MapCheckedAsync(lab.ClientA, "tcp", 8080);
        var pcp = await PcpClient.MapAsync(lab.ClientB, AddressB, Tcp, 8081, 600);
        Assert.Equal(PcpClient.Success, pcp.Result);
        var mismatch = await PcpClient.MapAsync(lab.ClientB, AddressA, Tcp, 8082, 600);
        Assert.NotEqual(PcpClient.Success, mismatch.Result);
        Assert.Equal("clienta from 192.0.2.100", await Probes.AskAsync(lab.Remote, "tcp", PublicAddress, natPmpPort));

        // A datagram too short to be a PCP request: dropped unanswered, and counted as such.
        await lab.ClientA.RunCheckedAsync("python3", "-c",
            "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'\\x02', ('10.99.0.1', 5351))");
        List<Sample> samples = [];
        Assert.True(await Wait.UntilAsync(async () =>
        {
            samples = await MetricsLab.ScrapeAsync(lab);
            return Value(samples, "portcullis_port_requests_dropped_total", "reason=unreadable") >= 1;
        }, TimeSpan.FromSeconds(20), TimeSpan.FromMilliseconds(200)), "the short datagram was not counted as dropped");
        Assert.Equal(0, Value(samples, "portcullis_port_requests_dropped_total", "reason=foreign_interface"));
        Assert.Contains(samples, s => s.Name == "portcullis_port_requests_dropped_total" && s.Has("reason", "foreign_interface"));

        Assert.Equal(2, Value(samples, "portcullis_peers_configured"));
        Assert.Equal(2, Value(samples, "portcullis_peers_connected"));
        Assert.True(Value(samples, "portcullis_handshakes_total", "role=responder", "result=completed") >= 2);
        Assert.True(Value(samples, "portcullis_sessions_started_total") >= 2);
        Assert.True(Value(samples, "portcullis_received_packets_total") > 0);
        Assert.True(Value(samples, "portcullis_sent_bytes_total") > 0);
        Assert.True(Value(samples, "portcullis_port_requests_total", "protocol=natpmp", "opcode=map_tcp", "result=success") >= 1);
        Assert.True(Value(samples, "portcullis_port_requests_total", "protocol=pcp", "opcode=map", "result=success") >= 1);
        Assert.True(Value(samples, "portcullis_port_requests_total", "protocol=pcp", "opcode=map", "result=address_mismatch") >= 1,
            string.Join('\n', samples.Where(s => s.Name.StartsWith("portcullis_port_requests", StringComparison.Ordinal))));
        Assert.Equal(2, Value(samples, "portcullis_mappings", "kind=dynamic"));
        Assert.Equal(40000, Value(samples, "portcullis_port_pool_size_ports"));
        Assert.Equal(2, Value(samples, "portcullis_port_pool_used_ports", "state=mapped"));
        Assert.Equal(1, Value(samples, "portcullis_forwarding_enabled"));
        Assert.True(Value(samples, "portcullis_kernel_transaction_duration_seconds_count", "operation=update") >= 2);
        Assert.True(Value(samples, "portcullis_store_operation_duration_seconds_count") >= 1);
        Assert.Equal(1, Value(samples, "portcullis_info"));
        // Privacy by default: no series names a peer, by label or by address.
        Assert.DoesNotContain(samples, s => s.Labels.ContainsKey("peer") || s.Labels.Values.Any(v => v.Contains("10.99.", StringComparison.Ordinal)));

        // No token: nothing. Health needs none and says no more than its state.
        Assert.Equal(401, (await AdminHttp.GetAsync(lab.Gateway, "/metrics", null)).Status);
        Assert.Equal((200, """{"status":"ok","reason":null}"""), Compact(await AdminHttp.GetAsync(lab.Gateway, "/healthz", null)));
        Assert.Equal((200, """{"status":"ok","reason":null}"""), Compact(await AdminHttp.GetAsync(lab.Gateway, "/readyz", null)));

        // Readiness follows the kernel: the interface down, then the table gone.
        await lab.Gateway.RunCheckedAsync("ip", "link", "set", lab.GatewayInterface, "down");
        Assert.Equal((503, """{"status":"failing","reason":"device_down"}"""), Compact(await AdminHttp.GetAsync(lab.Gateway, "/readyz", null)));
        Assert.Equal(200, (await AdminHttp.GetAsync(lab.Gateway, "/healthz", null)).Status);
        await lab.Gateway.RunCheckedAsync("ip", "link", "set", lab.GatewayInterface, "up");
        Assert.Equal(200, (await AdminHttp.GetAsync(lab.Gateway, "/readyz", null)).Status);
        await lab.Gateway.RunCheckedAsync("nft", "delete", "table", "ip", "portcullis");
        Assert.Equal((503, """{"status":"failing","reason":"table_missing"}"""), Compact(await AdminHttp.GetAsync(lab.Gateway, "/readyz", null)));
    }

    [Fact]
    public async Task Scrape_PerPeerOptIn_TrafficSeriesByPeerName()
    {
        await using var lab = await MetricsLab.StartAsync(perPeer: true);
        Assert.True(await lab.ClientA.PingUntilAsync(GatewayTunnelAddress, TimeSpan.FromSeconds(10)));

        var samples = await MetricsLab.ScrapeAsync(lab);

        Assert.True(Value(samples, "portcullis_peer_received_bytes_total", "peer=a") > 0);
        Assert.True(Value(samples, "portcullis_peer_sent_bytes_total", "peer=b") > 0);
    }

    private static (int, string) Compact((int Status, string Body) answer) =>
        (answer.Status, string.Concat(answer.Body.Where(c => !char.IsWhiteSpace(c))));
}
