using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Portcullis.Linux.Namespaces;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>
/// The assembled gateway (store, TUN, device, nftables, port-mapping and reachability listeners) on virtual time, in a
/// child process run inside a test namespace (<see cref="VirtualTimeGateway"/>). What it shows: after a crash the
/// gateway calls back the peer it remembered, and the retransmission of that handshake comes when virtual time is
/// moved past REKEY_TIMEOUT (5 s), driven by the FakeTimeProvider handed to GatewayHost; the host's start and the
/// stored peer's creation read that provider too (a date in 2001).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GatewayHostVirtualTimeTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    [Fact]
    public void AssembledGateway_VirtualTimeAdvanced_RetransmitsHandshakeToRememberedPeer()
    {
        using var ns = new TestNamespace("pcgh");
        var name = "pcvt" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var directory = Directory.CreateTempSubdirectory("pcgh-");
        var endpoints = Path.Combine("/run/portcullis", name + ".endpoints");
        using var peer = NetworkNamespace.RunIn(ns.Name, () =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            return socket;
        });
        peer.ReceiveTimeout = (int)Generous.TotalMilliseconds;
        var peerKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var config = Path.Combine(directory.FullName, "gateway.toml");
        File.WriteAllText(config, $"""
            [tunnel]
            interface = "{name}"
            private_key = "{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}"
            listen_port = 51820
            address = "10.231.0.1/24"
            [nat]
            public_interface = "lo"
            public_addresses = ["192.0.2.1"]
            [store]
            path = "{Path.Combine(directory.FullName, "store.db")}"
            [[peer]]
            name = "remembered"
            public_key = "{peerKey}"
            address = "10.231.0.2"
            """);
        File.SetUnixFileMode(config, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        Directory.CreateDirectory("/run/portcullis", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        File.WriteAllText(endpoints, $"{peerKey} 127.0.0.1:{((IPEndPoint)peer.LocalEndPoint!).Port}\n");
        File.SetUnixFileMode(endpoints, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "netns", "exec", ns.Name, Environment.ProcessPath!, typeof(VirtualTimeGateway).Assembly.Location, VirtualTimeGateway.Command, config })
            start.ArgumentList.Add(argument);
        using var gateway = Process.Start(start)!;
        var errors = gateway.StandardError.ReadToEndAsync();
        try
        {
            var up = ReadLine(gateway);
            if (up is null || !up.StartsWith("up ", StringComparison.Ordinal))
                Assert.Fail($"the gateway did not come up: {Stop(gateway, errors)}");
            // The host and the store read the clock they were given, not the system's.
            Assert.Equal($"up {VirtualTimeGateway.Start:O} {VirtualTimeGateway.Start:O}", up);
            Assert.Equal(1, Initiations(peer, 1));

            // Virtual time only: the timer armed by the first initiation fires when the provider is moved past it.
            var received = 0;
            for (var step = 0; step < 10 && received == 0; step++)
            {
                gateway.StandardInput.WriteLine("advance 6");
                Assert.Equal("advanced", ReadLine(gateway));
                peer.ReceiveTimeout = 2000;
                received = Initiations(peer, 1);
            }
            if (received != 1)
                Assert.Fail($"no retransmission after moving virtual time: {Stop(gateway, errors)}");
        }
        finally
        {
            Stop(gateway, errors);
            File.Delete(endpoints);
            directory.Delete(recursive: true);
        }
    }

    private static string? ReadLine(Process process)
    {
        var line = process.StandardOutput.ReadLineAsync();
        return line.Wait(Generous) ? line.Result : null;
    }

    /// <summary>Counts handshake initiations (type 1, 148 bytes) received, up to <paramref name="wanted"/>; stops at the receive timeout.</summary>
    private static int Initiations(Socket peer, int wanted)
    {
        var buffer = new byte[2048];
        var count = 0;
        try
        {
            while (count < wanted)
            {
                var length = peer.Receive(buffer);
                if (length == 148 && buffer[0] == 1)
                    count++;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
        }
        return count;
    }

    private static string Stop(Process gateway, Task<string> errors)
    {
        if (!gateway.HasExited)
        {
            try
            {
                gateway.StandardInput.WriteLine("stop");
                gateway.StandardInput.Close();
            }
            catch (IOException)
            {
            }
            if (!gateway.WaitForExit(Generous))
                gateway.Kill(entireProcessTree: true);
            gateway.WaitForExit();
        }
        return errors.Wait(Generous) ? errors.Result : "";
    }
}
