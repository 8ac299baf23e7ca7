using Portcullis.Client.Status;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Client.Tests.Status;

public sealed class StatusTests
{
    private const string Answer = """
        private_key=e84b5a6d2717c1003a13b431570353dbaca9146cf150c5f8575680feba52027a
        listen_port=51820
        fwmark=51820
        public_key=b85996fecc9c7f1fc6d2572a76eda11d59bcd20be8e543b15ce4bd85a8e75a33
        preshared_key=0000000000000000000000000000000000000000000000000000000000000000
        protocol_version=1
        endpoint=198.51.100.10:51820
        last_handshake_time_sec=1795000000
        last_handshake_time_nsec=500000000
        tx_bytes=1234
        rx_bytes=5678
        persistent_keepalive_interval=25
        allowed_ip=0.0.0.0/0
        public_key=58402e695ba1772b1cc9309755f043251ea77fdcf10fbe63989ceb7e19321376
        last_handshake_time_sec=0
        last_handshake_time_nsec=0
        errno=0


        """;

    [Fact]
    public void ParseGet_HandshakeEndpointCounters()
    {
        var peers = PeerStatus.From(UapiClient.ParseGet(Answer));
        Assert.Equal(2, peers.Count);
        Assert.Equal("198.51.100.10:51820", peers[0].Endpoint);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1795000000).AddMilliseconds(500), peers[0].LastHandshake);
        Assert.Equal(5678ul, peers[0].RxBytes);
        Assert.Equal(1234ul, peers[0].TxBytes);
        Assert.Null(peers[1].LastHandshake);
        Assert.Null(peers[1].Endpoint);
    }

    [Fact]
    public void ParseGet_NeverKeepsThePrivateKey()
    {
        var peers = PeerStatus.From(UapiClient.ParseGet(Answer));
        Assert.DoesNotContain(peers, p => p.ToString().Contains("e84b5a6d", StringComparison.Ordinal));
    }

    [Fact]
    public void Build_RunningClient_ShowsHandshakeAgeAndKillSwitch()
    {
        var state = new ClientState
        {
            Interface = "wg0",
            Pid = 1,
            ConfigPath = "/c",
            Started = DateTimeOffset.UnixEpoch,
            Phase = "up",
            Endpoints = "198.51.100.10:51820",
            KillSwitch = true,
            Table = 51820,
            FwMark = 51820,
            FullTunnel4 = true,
        };
        var now = DateTimeOffset.FromUnixTimeSeconds(1795000042);
        var text = StatusReport.Build([state], _ => new ClientFacts(true, true, PeerStatus.From(UapiClient.ParseGet(Answer))), true, now);
        Assert.Contains("tunnel: up", text, StringComparison.Ordinal);
        Assert.Contains("(41 s ago)", text, StringComparison.Ordinal);
        Assert.Contains("full tunnel (fwmark 51820, table 51820)", text, StringComparison.Ordinal);
        Assert.Contains("forwarded port: none requested", text, StringComparison.Ordinal);
        Assert.Contains("kill switch: on", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_KilledClient_DownAndNoHandshake()
    {
        var state = new ClientState { Interface = "wg0", Pid = 99, ConfigPath = "/c", Started = DateTimeOffset.UnixEpoch, Phase = "up", Forward = "tcp" };
        var text = StatusReport.Build([state], _ => new ClientFacts(false, false, null), false, DateTimeOffset.UnixEpoch);
        Assert.Contains("tunnel: down (client pid 99 is gone)", text, StringComparison.Ordinal);
        Assert.Contains("latest handshake: unknown", text, StringComparison.Ordinal);
        Assert.Contains("forwarded port: tcp: none yet", text, StringComparison.Ordinal);
        Assert.Contains("kill switch: off", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_NoClient_SaysSo()
    {
        var text = StatusReport.Build([], _ => throw new InvalidOperationException(), true, DateTimeOffset.UnixEpoch);
        Assert.StartsWith("no client connected\nkill switch: on", text, StringComparison.Ordinal);
    }
}
