using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping.ClientSide;
using Portcullis.PortMapping.Server;
using Portcullis.Testing;

namespace Portcullis.Client.Tests.PortForwarding;

/// <summary>
/// A port keeper on virtual time against the real PCP/NAT-PMP server on loopback (policy replaced by
/// <see cref="AuthorityDouble"/>). Socket waits are real; the keeper's schedule moves only with <see cref="Time"/>.
/// </summary>
internal sealed class KeeperRig : IAsyncDisposable
{
    public static readonly IPAddress GatewayAddress = IPAddress.Parse("127.0.0.41");
    public static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.1");

    private KeeperRig(ParkingClock time, AuthorityDouble authority, int announcePort)
    {
        Time = time;
        Authority = authority;
        AnnouncePort = announcePort;
    }

    public ParkingClock Time { get; }
    public AuthorityDouble Authority { get; }
    public int AnnouncePort { get; }
    public PortMappingServer Server { get; private set; } = null!;
    public PortKeeper Keeper { get; private set; } = null!;
    public List<PortLease> Changes { get; } = [];

    public static async Task<KeeperRig> StartAsync(string forward, Func<PortKeeperOptions, PortKeeperOptions>? configure = null,
        Action<AuthorityDouble>? gateway = null)
    {
        var time = new ParkingClock(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero));
        var rig = new KeeperRig(time, new AuthorityDouble(time) { MaxLifetime = TimeSpan.FromSeconds(600) }, FreeUdpPort());
        gateway?.Invoke(rig.Authority);
        await rig.StartServerAsync(0);
        Assert.True(ForwardSpec.TryParse(forward, out var request, out _));
        var options = new PortKeeperOptions
        {
            Forward = request!,
            Gateway = GatewayAddress,
            TunnelInterface = "lo",
            ServerPort = rig.Server.LocalEndPoint!.Port,
            AnnouncePort = rig.AnnouncePort,
        };
        options = configure?.Invoke(options) ?? options;
        var client = new PortMappingClient(new PortMappingClientOptions
        {
            Gateway = GatewayAddress,
            Port = options.ServerPort,
            // Long enough that a loaded machine (CI: two slow cores, the unit test projects side by side) answers before a
            // retransmission (the double counts one at the same virtual instant as the same call). Five attempts (12 s
            // of real time) because an exchange that gives up waits for virtual time that only the test moves: the
            // keeper would sit out the test and the test would fail for the machine's load, not the keeper.
            InitialTimeout = TimeSpan.FromMilliseconds(400),
            MaxAttempts = 5,
        });
        rig.Keeper = new PortKeeper(options, client, NullLogger.Instance, time);
        rig.Keeper.LeaseChanged += lease => { lock (rig.Changes) rig.Changes.Add(lease); };
        rig.Keeper.Start();
        return rig;
    }

    public async Task StartServerAsync(int port)
    {
        Server = new PortMappingServer(Authority, new PortMappingServerOptions { ListenAddress = GatewayAddress, Port = port, AnnouncePort = AnnouncePort });
        await Server.StartAsync();
    }

    public int ChangeCount { get { lock (Changes) return Changes.Count; } }

    /// <summary>Waits (real time, bounded) until the condition holds; fails the test otherwise.</summary>
    public static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                Assert.Fail("timed out waiting for: " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>Gives the keeper real time to act on something it should NOT act on, then lets the test check.</summary>
    public static Task Quiet() => Task.Delay(300);

    public async ValueTask DisposeAsync()
    {
        await Keeper.DisposeAsync();
        await Server.DisposeAsync();
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
