using System.Text.Json;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Admin;

/// <summary>
/// The operator's round trip over a running gateway, through the CLI and the admin API only: a peer added with a
/// gateway-made key connects with the printed config, gets a static forward the internet reaches and a dynamic
/// mapping, and is cut off within seconds of `peer remove` — session, forward and mapping.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class AdminRoundTripTests
{
    private const int ExternalPort = 30000;
    private const int InternalPort = 8080;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task PeerAddConnectForwardDisableEnableRemove_OverTheCli_ConnectsReachableCutOffBackThenGone()
    {
        await using var lab = await AdminLab.StartAsync();

        // 1. The gateway made its token file, owner-only; the CLI finds the API from the gateway's TOML.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lab.TokenFile));
        var status = await lab.CliJsonAsync("status");
        Assert.Equal(lab.GatewayInterface, status.GetProperty("interface").GetString());
        Assert.Equal(0, status.GetProperty("peers").GetInt32());

        // 2. peer add: the gateway makes the key pair; the printed config is all the client needs.
        var added = await lab.CliAsync("peer", "add", "phone");
        Assert.True(added.Succeeded, added.ToString());
        Assert.Contains("PrivateKey = ", added.Stdout, StringComparison.Ordinal);
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        await lab.ConnectAsync();
        Assert.True(await lab.Client.PingUntilAsync(AdminLab.GatewayTunnelAddress, Generous), $"the new peer never reached the gateway\n{lab.Diagnostics()}");

        // 3. peer list: connected, in the table and in JSON.
        Assert.True(await AdminLab.WaitAsync(async () => Peer(await lab.CliJsonAsync("peer", "list"), "phone")?.GetProperty("connected").GetBoolean() == true, Generous),
            $"peer list never showed phone connected\n{lab.Diagnostics()}");
        var table = await lab.CliAsync("peer", "list");
        Assert.Matches(@"(?m)^NAME\s+ID\s+TUNNEL", table.Stdout);
        Assert.Matches(@"(?m)^phone\s+\S+\s+10\.99\.0\.\d+\s+-\s+yes\s+yes", table.Stdout);

        // 4. forward add: the remote host reaches the client's service through the gateway's public address.
        var forward = await lab.CliAsync("forward", "add", "phone", "tcp", $"{ExternalPort}", $"{InternalPort}");
        Assert.True(forward.Succeeded, forward.ToString());
        await using var listener = await Probes.ListenAsync(lab.Client, "tcp", InternalPort);
        Assert.True(await AdminLab.WaitAsync(async () => await Probes.AskAsync(lab.Remote, "tcp", AdminLab.PublicAddress, ExternalPort) is not null, Generous),
            $"the static forward never answered\n{lab.Diagnostics()}");
        var forwards = await lab.CliJsonAsync("forward", "list");
        Assert.True(forwards[0].GetProperty("live").GetBoolean());

        // 5. A dynamic mapping of its own (NAT-PMP through the tunnel) shows up in mapping list.
        var dynamicPort = await NatPmpClient.MapCheckedAsync(lab.Client, "udp", 9090);
        var mappings = await lab.CliJsonAsync("mapping", "list");
        Assert.Contains(mappings.EnumerateArray(), m => m.GetProperty("peer_name").GetString() == "phone" && m.GetProperty("public_port").GetInt32() == dynamicPort);

        // 6. peer disable cuts it off while it stays listed; enable lets it back in (the client keeps handshaking).
        var disabled = await lab.CliAsync("peer", "disable", "phone");
        Assert.True(disabled.Succeeded, disabled.ToString());
        Assert.True(await AdminLab.WaitAsync(async () => !await lab.Client.PingAsync(AdminLab.GatewayTunnelAddress), TimeSpan.FromSeconds(5)),
            $"the disabled peer still reaches the gateway\n{lab.Diagnostics()}");
        Assert.False(Peer(await lab.CliJsonAsync("peer", "list"), "phone")?.GetProperty("enabled").GetBoolean());
        Assert.DoesNotContain((await lab.CliJsonAsync("mapping", "list")).EnumerateArray(), m => m.GetProperty("peer_name").GetString() == "phone");
        var enabled = await lab.CliAsync("peer", "enable", "phone");
        Assert.True(enabled.Succeeded, enabled.ToString());
        Assert.True(await lab.Client.PingUntilAsync(AdminLab.GatewayTunnelAddress, Generous), $"the enabled peer never came back\n{lab.Diagnostics()}");

        // Back in: its forward answers again and it maps a port again, so what removal must end exists once more.
        Assert.True(await AdminLab.WaitAsync(async () => await Probes.AskAsync(lab.Remote, "tcp", AdminLab.PublicAddress, ExternalPort) is not null, Generous),
            $"the static forward did not come back with the enabled peer\n{lab.Diagnostics()}");
        dynamicPort = await NatPmpClient.MapCheckedAsync(lab.Client, "udp", 9091);
        Assert.Contains((await lab.CliJsonAsync("mapping", "list")).EnumerateArray(), m => m.GetProperty("public_port").GetInt32() == dynamicPort);

        // 7. peer remove: within seconds the client is cut off, its forward is dark and its mapping gone.
        var removed = await lab.CliAsync("peer", "remove", "phone");
        Assert.True(removed.Succeeded, removed.ToString());
        Assert.True(await AdminLab.WaitAsync(async () => !await lab.Client.PingAsync(AdminLab.GatewayTunnelAddress), TimeSpan.FromSeconds(5)),
            $"the removed peer still reaches the gateway\n{lab.Diagnostics()}");
        Assert.Null(await Probes.AskAsync(lab.Remote, "tcp", AdminLab.PublicAddress, ExternalPort));
        Assert.DoesNotContain((await lab.CliJsonAsync("mapping", "list")).EnumerateArray(), m => m.GetProperty("peer_name").GetString() == "phone");
        Assert.Equal(0, (await lab.CliJsonAsync("forward", "list")).GetArrayLength());
        Assert.Null(Peer(await lab.CliJsonAsync("peer", "list"), "phone"));

        // 8. Errors: a QR code on request; a wrong token is 401 on stderr with exit 1; a bad protocol is a usage error.
        var qr = await lab.CliAsync("peer", "add", "tablet", "--qr");
        Assert.True(qr.Succeeded, qr.ToString());
        Assert.Contains('█', qr.Stdout);
        var wrongToken = Path.Combine(lab.Directory, "wrong.token");
        await WgTools.WritePrivateFileAsync(wrongToken, "not-the-token-at-all\n");
        var refused = await lab.CliAsync("peer", "list", "--token-file", wrongToken);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("401", refused.Stderr, StringComparison.Ordinal);
        var usage = await lab.CliAsync("forward", "add", "tablet", "sctp", "30001");
        Assert.Equal(2, usage.ExitCode);
        Assert.Contains("protocol", usage.Stderr, StringComparison.Ordinal);
    }

    private static JsonElement? Peer(JsonElement peers, string name)
    {
        foreach (var peer in peers.EnumerateArray())
        {
            if (peer.GetProperty("name").GetString() == name)
                return peer;
        }
        return null;
    }
}
