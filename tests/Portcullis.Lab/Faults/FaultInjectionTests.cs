using System.Net.Sockets;
using System.Text.Json;
using Portcullis.Lab.Admin;
using Portcullis.Lab.Gateway;
using Portcullis.Lab.Harness;
using Portcullis.Lab.Tunnel;

namespace Portcullis.Lab.Faults;

/// <summary>
/// Issue 13 part 3, fault injection against the real gateway: the kernel refusing an nftables transaction, the store's
/// file system full, the store locked by another process, the UAPI socket flooded with connections. Each time the
/// operator gets a clear error, what the kernel and the store held before is still there, unchanged, and the gateway
/// goes on serving (the connected peer pings it and gets NAT-PMP mappings; the next change goes through once the fault
/// is gone).
/// </summary>
[Collection(LabCollection.Name)]
public sealed class FaultInjectionTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ForwardAdd_KernelRefusesTheTransaction_503WithNftReasonAndKernelAndStoreUnchanged()
    {
        await using var lab = await AdminLab.StartAsync();
        var address = await AddAndConnectAsync(lab, "alice");
        // A mapping made outside the gateway holds the key the operator is about to ask for, to another target: the
        // kernel refuses the gateway's "add element" for that key (EBUSY), so its whole transaction.
        await lab.Gateway.RunCheckedAsync("nft", "add", "element", "ip", "portcullis", "mappings",
            $"{{ {AdminLab.PublicAddress} . tcp . 30000 : 10.99.0.200 . 1 }}");
        var mapBefore = await MapAsync(lab);
        var storeBefore = await StoreSnapshotAsync(lab);

        var refused = await lab.CliAsync("forward", "add", "alice", "tcp", "30000", "8080");

        Assert.False(refused.Succeeded, refused.ToString());
        Assert.Contains("could not update the forwarding map", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("503", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(mapBefore, await MapAsync(lab));
        Assert.Equal(storeBefore, await StoreSnapshotAsync(lab));

        // The gateway goes on: the peer is served, and the next forward goes into the kernel.
        await AssertServingAsync(lab);
        (await lab.CliAsync("forward", "add", "alice", "tcp", "30001", "8080")).EnsureSuccess();
        Assert.Contains(GatewayLab.Element(30001, address, 8080), await MapAsync(lab), StringComparison.Ordinal);
        Assert.Contains($"30000 : 10.99.0.200 . 1", await MapAsync(lab), StringComparison.Ordinal);
        AssertStillRunning(lab);
    }

    [Fact]
    public async Task PeerAndForwardAdd_StoreFileSystemFull_503SaysSoNothingChangedThenWorksOnceFreed()
    {
        await using var mount = await TmpfsMount.CreateAsync(kibibytes: 1024);
        await using var lab = await AdminLab.StartAsync(storeDirectory: mount.Path);
        var address = await AddAndConnectAsync(lab, "alice");
        var mapped = await NatPmpClient.MapCheckedAsync(lab.Client, "udp", 9090);
        var storeBefore = await StoreSnapshotAsync(lab);
        var mapBefore = await MapAsync(lab);
        var devicePeersBefore = await DevicePeersAsync(lab);

        Assert.True(mount.Fill("filler") > 0);
        var peerAdd = await lab.CliAsync("peer", "add", "bob");
        var forwardAdd = await lab.CliAsync("forward", "add", "alice", "tcp", "30000", "8080");

        foreach (var refused in new[] { peerAdd, forwardAdd })
        {
            Assert.False(refused.Succeeded, refused.ToString());
            Assert.Contains("disk is full", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("503", refused.Stderr, StringComparison.Ordinal);
        }
        Assert.Equal(storeBefore, await StoreSnapshotAsync(lab));
        Assert.Equal(mapBefore, await MapAsync(lab));
        Assert.Contains(GatewayLab.Element(mapped, address, 9090), mapBefore, StringComparison.Ordinal);
        Assert.Equal(devicePeersBefore, await DevicePeersAsync(lab));
        await AssertServingAsync(lab);

        File.Delete(Path.Combine(mount.Path, "filler"));
        (await lab.CliAsync("peer", "add", "bob")).EnsureSuccess();
        Assert.Equal(2, (await lab.CliJsonAsync("peer", "list")).GetArrayLength());
        Assert.Equal(2, (await DevicePeersAsync(lab)).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        AssertStillRunning(lab);
    }

    [Fact]
    public async Task PeerAdd_StoreLockedByAnotherProcess_503SaysLockedReadsAndPeersServedThenWorksOnceReleased()
    {
        await using var lab = await AdminLab.StartAsync();
        await AddAndConnectAsync(lab, "alice");
        var storeBefore = await StoreSnapshotAsync(lab);
        var devicePeersBefore = await DevicePeersAsync(lab);

        // Another process (sqlite3 from Python, as an operator's script or a backup tool would) holds the write lock.
        var holder = lab.Gateway.Start("python3", "-c", """
            import signal, sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            signal.pause()
            """, Path.Combine(lab.Directory, "store", "portcullis.db"));
        await using (holder)
        {
            Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(holder.Output.Contains("locked", StringComparison.Ordinal) || holder.HasExited), Generous));
            Assert.False(holder.HasExited, holder.ToString());

            var refused = await lab.CliAsync("peer", "add", "bob");

            Assert.False(refused.Succeeded, refused.ToString());
            Assert.Contains("database is locked", refused.Stderr, StringComparison.Ordinal);
            Assert.Contains("503", refused.Stderr, StringComparison.Ordinal);
            Assert.Equal(storeBefore, await StoreSnapshotAsync(lab)); // reads still work while another process writes
            Assert.Equal(devicePeersBefore, await DevicePeersAsync(lab));
            await AssertServingAsync(lab);
        }

        (await lab.CliAsync("peer", "add", "bob")).EnsureSuccess();
        Assert.Equal(2, (await lab.CliJsonAsync("peer", "list")).GetArrayLength());
        AssertStillRunning(lab);
    }

    [Fact]
    public async Task UapiSocket_FloodOfSilentConnections_WgStillAnswersNothingChangesFdsComeBack()
    {
        const int Flood = 400;
        const int MaxUapiConnections = 64; // UapiServerOptions' default, what the gateway runs with
        await using var lab = await AdminLab.StartAsync();
        await AddAndConnectAsync(lab, "alice");
        var socketPath = $"/var/run/wireguard/{lab.GatewayInterface}.sock";
        var pid = lab.GatewayProcess.Id;
        var devicePeersBefore = await DevicePeersAsync(lab);
        var listenPortBefore = await lab.Gateway.RunCheckedAsync("wg", "show", lab.GatewayInterface, "listen-port");
        var fdsBefore = OpenFds(pid);

        var flood = new List<Socket>(Flood);
        try
        {
            var refused = 0;
            for (var i = 0; i < Flood; i++)
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                flood.Add(socket);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath));
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
                {
                    refused++; // the listen backlog is full for a moment: the kernel refuses the flood, not us
                }
            }
            Assert.True(refused < Flood / 2, $"{refused} of {Flood} connections refused by the backlog");

            // Stock wg is answered while the flood holds every slot it can: a new connection takes a silent one's place.
            CommandResult? shown = null;
            for (var attempt = 0; attempt < 20 && shown is not { Succeeded: true }; attempt++)
                shown = await lab.Gateway.RunAsync("wg", "show", lab.GatewayInterface, "peers");
            Assert.True(shown is { Succeeded: true }, shown?.ToString());
            Assert.Equal(devicePeersBefore, shown!.Stdout.Trim());
            Assert.Equal(listenPortBefore, await lab.Gateway.RunCheckedAsync("wg", "show", lab.GatewayInterface, "listen-port"));
            Assert.InRange(OpenFds(pid), 0, fdsBefore + MaxUapiConnections + 8);
            await AssertServingAsync(lab);
            Assert.Contains("UAPI at its limit", lab.GatewayProcess.Output, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var socket in flood)
                socket.Dispose();
        }

        Assert.True(await AdminLab.WaitAsync(() => Task.FromResult(OpenFds(pid) <= fdsBefore + 2), Generous),
            $"the gateway still holds {OpenFds(pid)} descriptors, {fdsBefore} before the flood");
        Assert.Equal(devicePeersBefore, await DevicePeersAsync(lab));
        AssertStillRunning(lab);
    }

    /// <summary>Adds a peer over the CLI, connects the lab's client with its config, waits for the tunnel; its address.</summary>
    private static async Task<string> AddAndConnectAsync(AdminLab lab, string name)
    {
        var added = await lab.CliAsync("peer", "add", name);
        Assert.True(added.Succeeded, added.ToString());
        await WgTools.WritePrivateFileAsync(lab.ClientConfig, added.Stdout);
        await lab.ConnectAsync();
        Assert.True(await lab.Client.PingUntilAsync(AdminLab.GatewayTunnelAddress, Generous), $"{name} never reached the gateway\n{lab.Diagnostics()}");
        var peers = await lab.CliJsonAsync("peer", "list");
        return peers.EnumerateArray().Single(p => p.GetProperty("name").GetString() == name).GetProperty("tunnel_address").GetString()!;
    }

    /// <summary>The connected peer reaches the gateway and gets a new mapping over NAT-PMP (which needs the kernel).</summary>
    private static async Task AssertServingAsync(AdminLab lab)
    {
        Assert.True(await lab.Client.PingAsync(AdminLab.GatewayTunnelAddress, count: 3), $"the peer lost the gateway\n{lab.Diagnostics()}");
        var port = await NatPmpClient.MapCheckedAsync(lab.Client, "tcp", 7000 + Random.Shared.Next(1000));
        Assert.Contains($"{port} : ", await MapAsync(lab), StringComparison.Ordinal);
    }

    private static void AssertStillRunning(AdminLab lab) =>
        Assert.False(lab.GatewayProcess.HasExited, $"the gateway died\n{lab.GatewayProcess}");

    /// <summary>The mappings map as the kernel holds it (no timeouts in it: the leases set has those).</summary>
    private static Task<string> MapAsync(AdminLab lab) =>
        lab.Gateway.RunCheckedAsync("nft", "list", "map", "ip", "portcullis", "mappings");

    /// <summary>What the store holds, through the admin API: peers and static forwards.</summary>
    private static async Task<string> StoreSnapshotAsync(AdminLab lab)
    {
        var peers = await lab.CliJsonAsync("peer", "list");
        var forwards = await lab.CliJsonAsync("forward", "list");
        var names = string.Join(",", peers.EnumerateArray().Select(p => $"{p.GetProperty("name").GetString()}={p.GetProperty("tunnel_address").GetString()}"));
        return $"peers [{names}] forwards {JsonSerializer.Serialize(forwards)}";
    }

    private static async Task<string> DevicePeersAsync(AdminLab lab) =>
        (await lab.Gateway.RunCheckedAsync("wg", "show", lab.GatewayInterface, "peers")).Trim();

    private static int OpenFds(int pid) => Directory.GetFiles($"/proc/{pid}/fd").Length;
}
