using System.Globalization;
using System.Net;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Operations;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Operations.Exposition;

namespace Portcullis.Lab.Ipv6;

/// <summary>
/// PCP FILTER and per-mapping inbound limits on IPv6 mappings (issue 15), in both IPv6 modes (NAT66 and a routed
/// prefix), against stock programs: a stock WireGuard client maps a service with the RFC-built PCP client
/// (Gateway/PcpClient.cs) carrying an IPv6 FILTER option; stock <c>nc -6 -s</c> from the allowed remote address reaches it,
/// from another address of the same host it finds the mapping dark; with <c>portcullis policy set
/// --max-filters-per-mapping 0</c> the same request is refused with EXCESSIVE_REMOTE_PEERS. With <c>inbound_new_per_second = N</c>, N+1 SYNs
/// sent within milliseconds (raw, no retransmission: hping3 has no IPv6) get exactly N SYN-ACKs, and /metrics counts
/// the dropped one by reason.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class Ipv6FilterAndLimitTests
{
    private const int Tcp = 6;
    private const int Mapped = 8080;
    private const int ExcessiveRemotePeers = 13; // RFC 6887 §7.4
    private const string Nonce = "0f1e2d3c4b5a69788796a5b4";

    // N+1 SYNs from distinct source ports over a raw IPv6 socket (the kernel fills in the TCP checksum), then the
    // SYN-ACKs that come back within 2 s, counted by port. Prints that count.
    private const string Syns = """
        import os, select, socket, struct, sys, time
        address, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_CHECKSUM, 16)
        ports = set(range(41000, 41000 + count))
        for sport in sorted(ports):
            s.sendto(struct.pack('!HHIIBBHHH', sport, port, 1000 + sport, 0, 0x50, 0x02, 65535, 0, 0), (address, 0))
        answered, end = set(), time.monotonic() + 2
        while time.monotonic() < end:
            if not select.select([s], [], [], max(0, end - time.monotonic()))[0]:
                break
            data = s.recv(2048)
            sport, dport = struct.unpack('!HH', data[:4])
            if sport == port and dport in ports and data[13] & 0x12 == 0x12:
                answered.add(dport)
        print(len(answered))
        """;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RfcPcpClientWithIpv6Filter_AllowedRemoteAnswered_OtherAddressOfTheSameHostDark(bool routed)
    {
        await using var lab = await Ipv6Lab.StartAsync(routed);
        var allowed = lab.Remote.Address6!;
        var stranger = Sibling(allowed);
        await lab.Remote.RunCheckedAsync("ip", "-6", "addr", "add", $"{stranger}/64", "dev", "eth0", "nodad");
        await using var service = await Nc6.ListenAsync(lab.ClientA, Mapped);
        // The policy knob, set over the admin API by the CLI: no filtered mappings at all, then the file's value again.
        var none = await lab.CliAsync("policy", "set", "--max-filters-per-mapping", "0");
        Assert.True(none.Succeeded, none.ToString());
        Assert.Contains("filters per mapping: 0  (set over the API)", none.Stdout, StringComparison.Ordinal);
        var refused = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce, $"{allowed}/128/0");
        Assert.Equal(ExcessiveRemotePeers, refused.Result);
        var back = await lab.CliAsync("policy", "set", "--max-filters-per-mapping", "default");
        Assert.True(back.Succeeded, back.ToString());

        var answer = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce, $"{allowed}/128/0");

        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        Assert.True(answer.EchoedFilters, "the FILTER option was not echoed as sent");
        var target = routed ? lab.AddressA6 : lab.PublicAddress6;
        var ruleset = await lab.Gateway.RunCheckedAsync("nft", "list", "set", "ip6", "portcullis", "admitted");
        Assert.Contains($"{target} . tcp . {answer.ExternalPort} . {allowed} . 0-65535", ruleset, StringComparison.Ordinal);

        Assert.False(await Nc6.ConnectsAsync(lab.Remote, target, answer.ExternalPort, stranger), "a remote the filter does not name got through");
        await Nc6.SendAsync(lab.Remote, target, answer.ExternalPort, "hello-from-allowed", service, lab.Diagnostics, allowed);

        // Deleted: its filter elements go with it.
        var deleted = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 0, Nonce);
        Assert.Equal(PcpClient.Success, deleted.Result);
        Assert.DoesNotContain(allowed, await lab.Gateway.RunCheckedAsync("nft", "list", "set", "ip6", "portcullis", "admitted"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task InboundRate_OneSynMoreThanTheRateWithinASecond_ThatOneDroppedAndCounted(bool routed)
    {
        const int Rate = 3;
        await using var lab = await Ipv6Lab.StartAsync(routed, forwarding: $"inbound_new_per_second = {Rate}");
        await using var service = await Nc6.ListenAsync(lab.ClientA, Mapped);
        var answer = await PcpClient.MapAsync(lab.ClientA, lab.GatewayTunnelAddress6, lab.AddressA6, Tcp, Mapped, 600, Nonce);
        Assert.True(answer.Result == PcpClient.Success, $"{answer}\n{lab.Diagnostics()}");
        var target = routed ? lab.AddressA6 : lab.PublicAddress6;
        Assert.Equal(0, Value(await ScrapeAsync(lab), "portcullis_inbound_dropped_total", "reason=rate"));

        var sent = await lab.Remote.RunAsync(
            ["python3", "-c", Syns, target, answer.ExternalPort.ToString(CultureInfo.InvariantCulture), (Rate + 1).ToString(CultureInfo.InvariantCulture)],
            RunOptions.Default with { Timeout = TimeSpan.FromSeconds(20), Check = true });

        Assert.True(sent.Stdout.Trim() == Rate.ToString(CultureInfo.InvariantCulture),
            $"{sent.Stdout.Trim()} SYN-ACKs, expected {Rate}\n{await lab.Gateway.RunCheckedAsync("nft", "list", "table", "ip6", "portcullis")}");
        var samples = await ScrapeAsync(lab);
        Assert.Equal(1, Value(samples, "portcullis_inbound_dropped_total", "reason=rate"));
        Assert.Equal(0, Value(samples, "portcullis_inbound_dropped_total", "reason=connections"));
        Assert.All(samples.Where(s => s.Name == "portcullis_inbound_dropped_total"), s => Assert.Equal(["reason"], s.Labels.Keys));
    }

    // Another address in the same /64 as the remote host's: the same host, a source no filter names.
    private static string Sibling(string address)
    {
        var bytes = IPAddress.Parse(address).GetAddressBytes();
        bytes[14] = 0xbe;
        bytes[15] = 0xef;
        return new IPAddress(bytes).ToString();
    }

    private static async Task<List<Sample>> ScrapeAsync(Ipv6Lab lab)
    {
        var tokenFile = Path.Combine(Path.GetDirectoryName(lab.ConfigPath)!, "admin.token");
        var (status, body) = await AdminHttp.GetAsync(lab.Gateway, "/metrics", tokenFile);
        Assert.True(status == 200, $"/metrics answered {status}: {body}");
        return Parse(body);
    }
}
