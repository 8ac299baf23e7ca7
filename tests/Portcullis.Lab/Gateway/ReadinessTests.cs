using System.Net.Sockets;
using System.Text;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;
using static Portcullis.Lab.Gateway.GatewayLab;

namespace Portcullis.Lab.Gateway;

/// <summary>
/// "Up" means up: the gateway tells its service manager READY=1 (sd_notify, as systemd's Type=notify reads it) only
/// once every listener answers — the admin API with its token file, the UAPI socket, the "Gateway up" log line — then
/// keeps the watchdog fed, and says STOPPING=1 before it tears down. The test plays systemd with a socket of its own.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ReadinessTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Gateway_UnderNotifySocket_ReadyOnlyWhenEveryListenerAnswersThenWatchdogThenStopping()
    {
        await using var network = await LabNetwork.CreateAsync();
        var gateway = await network.AddHostAsync("gateway", LabSegment.Gateway, PublicAddress);
        var directory = network.CreateTempDirectory();
        var config = Path.Combine(directory, "gw.toml");
        var tunnel = network.NewInterfaceName();
        await WgTools.WritePrivateFileAsync(config, $"""
            [tunnel]
            interface   = "{tunnel}"
            private_key = "{(await WgTools.GenerateKeysAsync()).PrivateKey}"
            address     = "10.99.0.1/16"

            [nat]
            public_interface = "eth0"
            public_addresses = ["{PublicAddress}"]

            [store]
            path = "{directory}/store/portcullis.db"

            [admin]
            listen     = "127.0.0.1:8351"
            token_file = "admin.token"
            """);
        var notifyPath = Path.Combine(directory, "notify");
        using var manager = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        manager.Bind(new UnixDomainSocketEndPoint(notifyPath));

        await using var process = gateway.Start([LabBinaries.Portcullis, "gateway", "--config", config],
            new Dictionary<string, string> { ["LOG_LEVEL"] = "info", ["NOTIFY_SOCKET"] = notifyPath, ["WATCHDOG_USEC"] = "400000" });

        var ready = await ReceiveAsync(manager, process);
        // Checked the moment READY=1 arrives: nothing here may still be on its way.
        var token = Path.Combine(directory, "admin.token");
        Assert.True(File.Exists(token), $"READY=1 came before the admin token file existed\n{process}");
        Assert.True(File.Exists($"/var/run/wireguard/{tunnel}.sock"), $"READY=1 came before the UAPI socket existed\n{process}");
        // The log line was written before READY=1, but it reaches us through a pipe another thread reads: wait for it.
        Assert.True(await Wait.UntilAsync(() => Task.FromResult(process.Output.Contains("Gateway up", StringComparison.Ordinal)),
            Generous, TimeSpan.FromMilliseconds(20)), $"no 'Gateway up' after READY=1\n{process}");
        Assert.StartsWith("READY=1\n", ready, StringComparison.Ordinal);
        Assert.Contains($"MAINPID={process.Id}", ready, StringComparison.Ordinal);
        var status = await gateway.RunAsync([LabBinaries.Portcullis, "status", "--json", "--config", config], RunOptions.Default with { Timeout = Generous });
        Assert.True(status.Succeeded, status.ToString());
        // The admin API line comes before "Gateway up": whoever waits for the log line finds the API there.
        Assert.True(process.Output.IndexOf("Admin API listening", StringComparison.Ordinal) < process.Output.IndexOf("Gateway up", StringComparison.Ordinal),
            process.Output);

        Assert.Equal("WATCHDOG=1", await ReceiveAsync(manager, process));

        process.Terminate();
        string message;
        do
            message = await ReceiveAsync(manager, process);
        while (message == "WATCHDOG=1");
        Assert.Equal("STOPPING=1", message);
        Assert.True(await process.WaitForExitAsync(Generous), $"the gateway did not stop\n{process}");
        Assert.Equal(0, process.ExitCode);
    }

    private static async Task<string> ReceiveAsync(Socket socket, LabProcess process)
    {
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(Generous);
        try
        {
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        catch (OperationCanceledException)
        {
            throw new LabCommandException($"no notification from the gateway within {Generous}:\n{process}");
        }
    }
}
