using System.Text.Json;
using Portcullis.Client.Status;

namespace Portcullis.Client.Tests.Status;

public sealed class StatusJsonTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static ClientState State(string reachability) => new()
    {
        Interface = "pc7",
        Pid = 4242,
        ConfigPath = "/etc/portcullis/clients/home.conf",
        Started = Now.AddMinutes(-5),
        Phase = "up",
        Endpoints = "198.51.100.10:51820",
        FullTunnel4 = true,
        Forward = "tcp:8080",
        ForwardedPort = "41234",
        LeaseExpires = "2026-12-07T12:10:00.0000000+00:00",
        Reachability = reachability,
    };

    [Fact]
    public void Build_RunningClient_TheTextReportsFactsAsNumbersAndFlags()
    {
        var peers = new List<PeerStatus> { new("ab", "198.51.100.10:51820", Now.AddSeconds(-42), 5678, 1234) };

        var json = StatusJson.Build([State("reachable")], _ => new ClientFacts(true, true, peers), killSwitchInstalled: true, Now);

        using var document = JsonDocument.Parse(json);
        var client = document.RootElement.GetProperty("clients")[0];
        Assert.True(document.RootElement.GetProperty("kill_switch").GetBoolean());
        Assert.Equal("pc7", client.GetProperty("interface").GetString());
        Assert.True(client.GetProperty("up").GetBoolean());
        Assert.Equal(42, client.GetProperty("latest_handshake_age_seconds").GetInt64());
        Assert.Equal(5678, client.GetProperty("received_bytes").GetInt64());
        Assert.Equal(1234, client.GetProperty("sent_bytes").GetInt64());
        Assert.Equal("41234", client.GetProperty("forwarded_port").GetString());
        Assert.Equal("reachable", client.GetProperty("reachability").GetString());
        Assert.True(client.GetProperty("reachable").GetBoolean());
    }

    [Fact]
    public void Build_DeadClientNotYetChecked_DownAndNulls()
    {
        var json = StatusJson.Build([State("")], _ => new ClientFacts(false, false, null), killSwitchInstalled: false, Now);

        using var document = JsonDocument.Parse(json);
        var client = document.RootElement.GetProperty("clients")[0];
        Assert.False(client.GetProperty("up").GetBoolean());
        Assert.Equal(JsonValueKind.Null, client.GetProperty("received_bytes").ValueKind);
        Assert.Equal(JsonValueKind.Null, client.GetProperty("latest_handshake_utc").ValueKind);
        Assert.Equal(JsonValueKind.Null, client.GetProperty("reachable").ValueKind);
    }
}
