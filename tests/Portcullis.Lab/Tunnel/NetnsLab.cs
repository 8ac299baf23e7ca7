using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Tunnel;

/// <summary>
/// The wireguard.com/netns topology, as the kernel's and wireguard-go's netns tests build it: both daemons start in
/// one namespace (<see cref="Outer"/>, only loopback), where their UDP sockets stay; each interface is then moved
/// with `ip link set IF netns NS` into a namespace of its own (<see cref="One"/>, <see cref="Two"/>), whose only way
/// out is that interface. Outer UDP runs over <see cref="Outer"/>'s loopback (127.0.0.1 or ::1, ports 10000 and
/// 20000); inner addresses 10.241.0.1/2 and fd24:1::1/2. Configured with stock `wg` (from the outer namespace, as
/// the UAPI socket does not care) and `ip` (in the interface's namespace).
/// </summary>
internal sealed class NetnsLab : IAsyncDisposable
{
    public const int PortOne = 10000;
    public const int PortTwo = 20000;
    public const string InnerOne = "10.241.0.1";
    public const string InnerTwo = "10.241.0.2";
    public const string InnerOne6 = "fd24:1::1";
    public const string InnerTwo6 = "fd24:1::2";

    /// <summary>What wireguard-go's netns test raises the MTU to: 34816 - 1500 + 1420.</summary>
    public const int JumboMtu = 34736;

    private NetnsLab(LabNetwork network, LabHost outer, LabHost one, LabHost two)
    {
        Network = network;
        Outer = outer;
        One = one;
        Two = two;
    }

    public LabNetwork Network { get; }

    /// <summary>Where both daemons run and their sockets stay.</summary>
    public LabHost Outer { get; }

    /// <summary>Where the first interface lives after the move.</summary>
    public LabHost One { get; }

    /// <summary>Where the second interface lives after the move.</summary>
    public LabHost Two { get; }

    /// <summary>Ours, always. Its process runs in <see cref="Outer"/>; its interface is in <see cref="One"/>.</summary>
    public WireGuardDevice DeviceOne { get; private set; } = null!;

    /// <summary>Ours or the reference; its interface is in <see cref="Two"/>.</summary>
    public WireGuardDevice DeviceTwo { get; private set; } = null!;

    public WireGuardKeys KeysOne { get; private set; } = null!;

    public WireGuardKeys KeysTwo { get; private set; } = null!;

    /// <summary>Builds the namespaces, starts both daemons, moves the interfaces, configures and brings them up.</summary>
    public static async Task<NetnsLab> StartAsync(WireGuardImplementation second, bool outerIpv6, int? mtu = null)
    {
        var network = await LabNetwork.CreateAsync();
        try
        {
            var lab = new NetnsLab(
                network,
                await network.AddIsolatedHostAsync("outer"),
                await network.AddIsolatedHostAsync("one"),
                await network.AddIsolatedHostAsync("two"));
            await lab.StartDevicesAsync(second, outerIpv6, mtu);
            return lab;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>The outer endpoint of a port on the outer namespace's loopback.</summary>
    public static string Endpoint(bool outerIpv6, int port) => outerIpv6 ? $"[::1]:{port}" : $"127.0.0.1:{port}";

    /// <summary>Sets both interfaces' MTU in the namespaces they live in now.</summary>
    public async Task SetMtuAsync(int mtu)
    {
        await One.RunCheckedAsync("ip", "link", "set", DeviceOne.Interface, "mtu", mtu.ToString());
        await Two.RunCheckedAsync("ip", "link", "set", DeviceTwo.Interface, "mtu", mtu.ToString());
    }

    public string Diagnostics() => Network.Diagnostics();

    public ValueTask DisposeAsync() => Network.DisposeAsync();

    private async Task StartDevicesAsync(WireGuardImplementation second, bool outerIpv6, int? mtu)
    {
        KeysOne = await WgTools.GenerateKeysAsync();
        KeysTwo = await WgTools.GenerateKeysAsync();
        var presharedKey = (await ProcessRunner.RunCheckedAsync("wg", "genpsk")).Stdout.Trim();

        DeviceOne = await WireGuardDevice.StartAsync(Outer, WireGuardImplementation.Ours);
        DeviceTwo = await WireGuardDevice.StartAsync(Outer, second);
        await Outer.RunCheckedAsync("ip", "link", "set", DeviceOne.Interface, "netns", One.Namespace);
        await Outer.RunCheckedAsync("ip", "link", "set", DeviceTwo.Interface, "netns", Two.Namespace);

        await PrepareAsync(One, DeviceOne.Interface, InnerOne, InnerOne6);
        await PrepareAsync(Two, DeviceTwo.Interface, InnerTwo, InnerTwo6);
        await DeviceOne.SetConfAsync($"""
            [Interface]
            PrivateKey = {KeysOne.PrivateKey}
            ListenPort = {PortOne}

            [Peer]
            PublicKey = {KeysTwo.PublicKey}
            PresharedKey = {presharedKey}
            AllowedIPs = {InnerTwo}/32, {InnerTwo6}/128
            Endpoint = {Endpoint(outerIpv6, PortTwo)}
            """);
        await DeviceTwo.SetConfAsync($"""
            [Interface]
            PrivateKey = {KeysTwo.PrivateKey}
            ListenPort = {PortTwo}

            [Peer]
            PublicKey = {KeysOne.PublicKey}
            PresharedKey = {presharedKey}
            AllowedIPs = {InnerOne}/32, {InnerOne6}/128
            Endpoint = {Endpoint(outerIpv6, PortOne)}
            """);
        await One.RunCheckedAsync("ip", "link", "set", DeviceOne.Interface, "up");
        await Two.RunCheckedAsync("ip", "link", "set", DeviceTwo.Interface, "up");
        if (mtu is int value)
            await SetMtuAsync(value);
    }

    private static async Task PrepareAsync(LabHost host, string interfaceName, string address, string address6)
    {
        // No router solicitations: the kernel's own packets would otherwise show in the interface counters a test
        // checks to the byte (the IPv6 router solicitation a link sends when it comes up, and twice more later).
        await host.RunCheckedAsync("sysctl", "-q", "-w", $"net.ipv6.conf.{interfaceName}.router_solicitations=0");
        await host.RunCheckedAsync("ip", "addr", "add", $"{address}/24", "dev", interfaceName);
        await host.RunCheckedAsync("ip", "-6", "addr", "add", $"{address6}/64", "dev", interfaceName, "nodad");
    }
}
