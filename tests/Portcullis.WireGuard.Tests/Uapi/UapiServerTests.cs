using System.Net.Sockets;
using Portcullis.WireGuard.Uapi;
using static Portcullis.WireGuard.Tests.Uapi.UapiTestKeys;

namespace Portcullis.WireGuard.Tests.Uapi;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class UapiServerTests
{
    private static readonly string GoodSet =
        $"set=1\nprivate_key={AlicePrivateHex}\nlisten_port=51820\npublic_key={BobPublicHex}\npreshared_key={PresharedHex}\n" +
        "endpoint=192.0.2.1:51820\nallowed_ip=10.0.0.2/32\n\n";

    [Fact]
    public void Start_Socket_IsOwnerOnlyAndDisposeRemovesIt()
    {
        string path;
        using (var harness = new UapiServerHarness())
        {
            path = harness.Server.SocketPath;
            Assert.Equal(Path.Combine(harness.Directory, harness.InterfaceName + ".sock"), path);
            Assert.True(File.Exists(path));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            harness.Server.Dispose();
            Assert.False(File.Exists(path));
            harness.Server.Dispose(); // idempotent
        }
    }

    [Fact]
    public void Start_MissingDirectory_IsCreated0755()
    {
        var parent = Directory.CreateTempSubdirectory("pct-uapi-");
        try
        {
            var directory = Path.Combine(parent.FullName, "wireguard");
            using var server = UapiServer.Start("pct0", new InMemoryUapiDevice(), new CapturingLogger(), directory);

            Assert.Equal(
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
                | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
                File.GetUnixFileMode(directory));
        }
        finally
        {
            parent.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_StaleSocketFile_IsReplaced()
    {
        var directory = Directory.CreateTempSubdirectory("pct-uapi-");
        try
        {
            var path = Path.Combine(directory.FullName, "pct1.sock");
            // .NET unlinks what it bound on Dispose; renaming the file first leaves it behind, as a crash would.
            var bound = path + ".tmp";
            using (var crashed = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
            {
                crashed.Bind(new UnixDomainSocketEndPoint(bound));
                File.Move(bound, path);
            }
            Assert.True(File.Exists(path));

            using var server = UapiServer.Start("pct1", new InMemoryUapiDevice(), new CapturingLogger(), directory.FullName);
            using var client = await RawUapiClient.ConnectAsync(path);

            Assert.Equal(0, await client.RequestErrnoAsync("get=1\n\n"));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_SocketOfALiveDevice_ThrowsAndLeavesItServing()
    {
        using var harness = new UapiServerHarness();

        Assert.Throws<IOException>(() => UapiServer.Start(harness.InterfaceName, new InMemoryUapiDevice(), new CapturingLogger(), harness.Directory));

        using var client = await harness.ConnectAsync();
        Assert.Equal(0, await client.RequestErrnoAsync("get=1\n\n"));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a:1")]
    [InlineData("sixteen-chars-xx")]
    public void Start_InvalidInterfaceName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => UapiServer.Start(name, new InMemoryUapiDevice(), new CapturingLogger(), Path.GetTempPath()));
    }

    [Fact]
    public async Task Set_ThenGet_OnOneConnection_RoundTrips()
    {
        using var harness = new UapiServerHarness();
        using var client = await harness.ConnectAsync();

        Assert.Equal(0, await client.RequestErrnoAsync(GoodSet));
        await client.SendAsync("get=1\n\n");
        var reply = await client.ReadReplyAsync();

        Assert.Equal(
            $"private_key={AlicePrivateHex}\nlisten_port=51820\npublic_key={BobPublicHex}\npreshared_key={PresharedHex}\n" +
            "protocol_version=1\nendpoint=192.0.2.1:51820\nlast_handshake_time_sec=0\nlast_handshake_time_nsec=0\n" +
            "tx_bytes=0\nrx_bytes=0\npersistent_keepalive_interval=0\nallowed_ip=10.0.0.2/32\nerrno=0\n\n",
            reply);
        Assert.Equal(1, harness.Device.ApplyCount);
    }

    [Fact]
    public async Task Set_BadLineAnywhere_AppliesNothingAndKeepsConnection()
    {
        using var harness = new UapiServerHarness();
        using var client = await harness.ConnectAsync();

        var invalid = await client.RequestErrnoAsync($"set=1\nlisten_port=1\npublic_key={BobPublicHex}\nallowed_ip=10.0.0.0/33\n\n");
        var protocol = await client.RequestErrnoAsync("set=1\nlisten_port=2\nnot a key value line\n\n");

        Assert.Equal(UapiErrno.Invalid, invalid);
        Assert.Equal(UapiErrno.Protocol, protocol);
        Assert.Equal(0, harness.Device.ApplyCount);
        Assert.Equal(0, await client.RequestErrnoAsync("set=1\nlisten_port=3\n\n"));
        Assert.Equal((ushort)3, harness.Device.GetState().ListenPort);
    }

    [Fact]
    public async Task Set_DeviceRefuses_RepliesDeviceErrno()
    {
        using var harness = new UapiServerHarness(device: new InMemoryUapiDevice { RefusedPort = 4000 });
        using var client = await harness.ConnectAsync();

        Assert.Equal(UapiErrno.AddressInUse, await client.RequestErrnoAsync("set=1\nlisten_port=4000\n\n"));
        Assert.Equal(0, await client.RequestErrnoAsync("set=1\nlisten_port=4001\n\n"));
    }

    [Fact]
    public async Task Set_DeviceCrashes_RepliesEioWithoutItsMessage()
    {
        using var harness = new UapiServerHarness();
        harness.Device.Crash = new InvalidOperationException("secret-bearing message " + AlicePrivateHex);
        using var client = await harness.ConnectAsync();

        Assert.Equal(UapiErrno.IO, await client.RequestErrnoAsync("set=1\nlisten_port=1\n\n"));
        Assert.DoesNotContain(harness.Logger.Text, line => line.Contains(AlicePrivateHex, StringComparison.Ordinal));
        Assert.Contains(harness.Logger.Text, line => line.Contains(nameof(InvalidOperationException), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Set_AfterApply_RequestSecretsAreZeroed()
    {
        using var harness = new UapiServerHarness();
        using var client = await harness.ConnectAsync();

        Assert.Equal(0, await client.RequestErrnoAsync(GoodSet));

        var request = harness.Device.LastRequest!;
        Assert.Equal(new byte[32], request.PrivateKey);
        Assert.Equal(new byte[32], request.Peers[0].PresharedKey);
        Assert.Equal(Bytes(AlicePrivateHex), harness.Device.GetState().PrivateKey); // the device kept its copy
    }

    [Fact]
    public async Task Get_AfterReply_SnapshotSecretsAreZeroed()
    {
        using var harness = new UapiServerHarness();
        using var client = await harness.ConnectAsync();
        Assert.Equal(0, await client.RequestErrnoAsync(GoodSet));

        await client.SendAsync("get=1\n\n");
        Assert.Contains($"private_key={AlicePrivateHex}\n", await client.ReadReplyAsync(), StringComparison.Ordinal);

        var state = harness.Device.LastState!;
        Assert.Equal(new byte[32], state.PrivateKey);
        Assert.Equal(new byte[32], Assert.Single(state.Peers).PresharedKey);
        Assert.Equal(Bytes(AlicePrivateHex), harness.Device.GetState().PrivateKey); // the device's own key is untouched
    }

    [Fact]
    public async Task Logs_AfterGoodAndBadRequests_HoldNoKeys()
    {
        using var harness = new UapiServerHarness();
        using (var client = await harness.ConnectAsync())
        {
            await client.RequestErrnoAsync(GoodSet);
            await client.RequestErrnoAsync($"set=1\nprivate_key={PresharedHex[..63]}\n\n");
            await client.RequestErrnoAsync($"set=1\n{AlicePrivateHex}={BobPrivateHex}\n\n");
            await client.RequestErrnoAsync($"{BobPrivateHex}\n");
        }

        Assert.NotEmpty(harness.Logger.Text);
        foreach (var secret in new[] { AlicePrivateHex, BobPrivateHex, PresharedHex[..40] })
            Assert.DoesNotContain(harness.Logger.Text, line => line.Contains(secret, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("bogus=1\n")]
    [InlineData("garbage\n")]
    [InlineData("get=2\n\n")]
    [InlineData("GET=1\n\n")]
    [InlineData("\n")]
    public async Task UnknownOperation_RepliesEprotoAndCloses(string request)
    {
        using var harness = new UapiServerHarness();
        using (var client = await harness.ConnectAsync())
        {
            Assert.Equal(UapiErrno.Protocol, await client.RequestErrnoAsync(request));
            Assert.True(await client.ClosedByServerAsync());
        }

        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task Get_WithoutBlankLine_RepliesEinvalAndCloses()
    {
        using var harness = new UapiServerHarness();
        using (var client = await harness.ConnectAsync())
        {
            Assert.Equal(UapiErrno.Invalid, await client.RequestErrnoAsync("get=1\nlisten_port=1\n"));
            Assert.True(await client.ClosedByServerAsync());
        }

        await AssertStillServesAsync(harness);
    }

    [Fact]
    public async Task BinaryGarbage_GetsErrnoOrClose_ServerKeepsServing()
    {
        using var harness = new UapiServerHarness();
        var garbage = new byte[10_000];
        new Random(7).NextBytes(garbage);
        using (var client = await harness.ConnectAsync())
        {
            await client.SendAsync(garbage);
            var reply = await client.ReadReplyAsync();
            Assert.True(reply is null || RawUapiClient.ErrnoOf(reply) < 0);
            Assert.True(await client.ClosedByServerAsync());
        }

        await AssertStillServesAsync(harness);
    }

    [Theory]
    [InlineData("get=")]
    [InlineData("set=1\nlisten_port=9")]
    [InlineData("set=1\nlisten_port=9\n")]
    public async Task HalfRequestThenClose_AppliesNothing_ServerKeepsServing(string half)
    {
        using var harness = new UapiServerHarness();
        using (var client = await harness.ConnectAsync())
            await client.SendAsync(half);

        await AssertStillServesAsync(harness);
        Assert.Equal(0, harness.Device.ApplyCount);
    }

    [Theory]
    [InlineData("")]
    [InlineData("set=1\n")]
    [InlineData("set=1\npublic_key=")]
    public async Task OversizedLine_RepliesEprotoAndCloses(string prefix)
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxLineLength = 256 });
        using (var client = await harness.ConnectAsync())
        {
            await client.SendAsync(prefix + new string('a', 300) + "\n\n");
            Assert.Equal(UapiErrno.Protocol, RawUapiClient.ErrnoOf((await client.ReadReplyAsync())!));
            Assert.True(await client.ClosedByServerAsync());
        }

        await AssertStillServesAsync(harness);
        Assert.Equal(0, harness.Device.ApplyCount);
    }

    [Fact]
    public async Task OversizedLineWithoutNewline_IsRefusedBeforeItEnds()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxLineLength = 256 });
        using var client = await harness.ConnectAsync();

        await client.SendAsync(new string('x', 100_000));

        Assert.Equal(UapiErrno.Protocol, RawUapiClient.ErrnoOf((await client.ReadReplyAsync())!));
    }

    [Fact]
    public async Task Line_AtTheLimit_IsAccepted()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxLineLength = 64 });
        using var client = await harness.ConnectAsync();

        // "listen_port=" + zeros + "7" is exactly 64 bytes.
        var line = "listen_port=" + new string('0', 64 - 13) + "7";
        Assert.Equal(64, line.Length);
        Assert.Equal(0, await client.RequestErrnoAsync($"set=1\n{line}\n\n"));
        Assert.Equal((ushort)7, harness.Device.GetState().ListenPort);
    }

    [Fact]
    public async Task RequestTooLarge_RepliesEprotoAppliesNothing()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxLineLength = 128, MaxRequestBytes = 1024 });
        using (var client = await harness.ConnectAsync())
        {
            var body = string.Concat(Enumerable.Repeat("listen_port=1\n", 100));
            Assert.Equal(UapiErrno.Protocol, await client.RequestErrnoAsync("set=1\n" + body + "\n"));
            Assert.True(await client.ClosedByServerAsync());
        }

        await AssertStillServesAsync(harness);
        Assert.Equal(0, harness.Device.ApplyCount);
    }

    [Fact]
    public async Task IdleClient_IsDisconnected()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        using var client = await harness.ConnectAsync();

        await client.SendAsync("set=1\nlisten_port=5\n");

        Assert.True(await client.ClosedByServerAsync());
        Assert.Equal(0, harness.Device.ApplyCount);
    }

    [Fact]
    public async Task ClientThatNeverReadsAHugeReply_IsDropped_FreeingItsSlot()
    {
        var device = new InMemoryUapiDevice();
        var prefixes = Enumerable.Range(0, 64).Select(i => System.Net.IPNetwork.Parse($"10.{i}.0.0/16")).ToArray();
        for (var i = 0; i < 2000; i++)
        {
            var key = new byte[32];
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(key, i + 1);
            device.AddPeer(new UapiPeerState(key, null, null, null, 0, 0, 0, prefixes));
        }
        using var harness = new UapiServerHarness(
            new UapiServerOptions { MaxConnections = 1, IdleTimeout = TimeSpan.FromMilliseconds(500) }, device);

        using var stuck = await harness.ConnectAsync();
        await stuck.SendAsync("get=1\n\n"); // a few MB of reply, never read

        // The slot frees once the server gives up on the stalled write (500 ms idle); until then a second client is
        // refused (one connection allowed). On a loaded machine that takes a while, so ask until it serves.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await ServesAsync(harness))
        {
            Assert.True(DateTime.UtcNow < deadline, "the stuck client's slot was never freed");
            await Task.Delay(100);
        }
    }

    private static async Task<bool> ServesAsync(UapiServerHarness harness)
    {
        try
        {
            using var client = await harness.ConnectAsync();
            await client.SendAsync("get=1\n\n");
            var reply = await client.ReadReplyAsync();
            return reply is not null && reply.EndsWith("errno=0\n\n", StringComparison.Ordinal);
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false; // refused or reset: the one slot is still taken
        }
    }

    [Fact]
    public async Task ConnectionLimit_NewConnectionTakesThePlaceOfOneWaitingForItsClient()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxConnections = 1 });
        using var first = await harness.ConnectAsync();
        Assert.Equal(0, await first.RequestErrnoAsync("get=1\n\n")); // accepted, served, now waiting for more

        var reply = await GetUntilServedAsync(harness);

        Assert.EndsWith("errno=0\n\n", reply, StringComparison.Ordinal);
        Assert.True(await first.ClosedByServerAsync());
        Assert.Contains(harness.Logger.Text, l => l.Contains("waiting longest", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Flood_OfSilentConnections_WgRequestsAreStillServedAndNothingChanges()
    {
        using var harness = new UapiServerHarness(new UapiServerOptions { MaxConnections = 8 });
        using (var setter = await harness.ConnectAsync())
            Assert.Equal(0, await setter.RequestErrnoAsync("set=1\nlisten_port=4242\n\n"));
        var flood = new List<RawUapiClient>();
        try
        {
            for (var round = 0; round < 10; round++)
            {
                for (var i = 0; i < 50; i++)
                    flood.Add(await harness.ConnectAsync());
                var reply = await GetUntilServedAsync(harness);
                Assert.Contains("listen_port=4242\n", reply, StringComparison.Ordinal);
                Assert.EndsWith("errno=0\n\n", reply, StringComparison.Ordinal);
            }
            Assert.Equal(1, harness.Device.ApplyCount); // the flood applied nothing
        }
        finally
        {
            foreach (var client in flood)
                client.Dispose();
        }
        await AssertStillServesAsync(harness);
    }

    // A connection accepted in the instant before the others began reading finds nobody to replace and is closed;
    // the operator's next try gets in. Bounded, so a server that never makes room fails the test.
    private static async Task<string> GetUntilServedAsync(UapiServerHarness harness)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var client = await harness.ConnectAsync();
            try
            {
                await client.SendAsync("get=1\n\n");
                if (await client.ReadReplyAsync() is { } reply)
                    return reply;
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Closed on accept with our request unread: reset.
            }
        }
        throw new Xunit.Sdk.XunitException("the server never made room for a get");
    }

    [Fact]
    public async Task ManyConcurrentClients_AreAllServed()
    {
        using var harness = new UapiServerHarness();

        var clients = Enumerable.Range(0, 48).Select(async i =>
        {
            using var client = await harness.ConnectAsync();
            for (var round = 0; round < 5; round++)
            {
                Assert.Equal(0, await client.RequestErrnoAsync($"set=1\nlisten_port={i}\n\n"));
                Assert.Equal(0, await client.RequestErrnoAsync("get=1\n\n"));
            }
        });
        await Task.WhenAll(clients);

        Assert.Equal(48 * 5, harness.Device.ApplyCount);
    }

    [Fact]
    public async Task Dispose_ClosesOpenConnections()
    {
        var harness = new UapiServerHarness();
        RawUapiClient? client = null;
        try
        {
            client = await harness.ConnectAsync();
            Assert.Equal(0, await client.RequestErrnoAsync("get=1\n\n"));
        }
        finally
        {
            harness.Dispose();
        }

        using (client)
            Assert.True(await client.ClosedByServerAsync());
    }

    private static async Task AssertStillServesAsync(UapiServerHarness harness)
    {
        using var client = await harness.ConnectAsync();
        await client.SendAsync("get=1\n\n");
        var reply = await client.ReadReplyAsync();
        Assert.NotNull(reply);
        Assert.EndsWith("errno=0\n\n", reply, StringComparison.Ordinal);
    }
}
