using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Portcullis.Lab.Harness;

/// <summary>
/// The lab's "internet" (DESIGN.md §5): one router namespace with IP forwarding on and three bridges
/// (<see cref="LabSegment.All"/>); hosts are namespaces hanging off one bridge by a veth pair, default routes via
/// the router. Nothing is configured in the root namespace. Names are unique per run (<c>pcl</c> + 6 hex).
/// Disposal kills every process and deletes every namespace it made, whatever state the test left.
/// </summary>
public sealed class LabNetwork : IAsyncDisposable
{
    private const string UapiDirectory = "/var/run/wireguard";
    private const string GatewayRunDirectory = "/run/portcullis";
    private readonly ConcurrentBag<LabProcess> _processes = [];
    private readonly List<LabHost> _hosts = [];
    private readonly List<string> _namespaces = [];
    private readonly List<string> _tempDirectories = [];
    private readonly List<string> _interfaces = [];
    private int _disposed;

    private LabNetwork(string id)
    {
        Id = id;
        Router = new LabHost(this, "router", $"pcl{id}-router", segment: null, address: null, address6: null);
    }

    /// <summary>6 hex digits that make every name of this run unique.</summary>
    public string Id { get; }

    public LabHost Router { get; }

    public IReadOnlyList<LabHost> Hosts => _hosts;

    /// <summary>Builds the router and its three segments. Fails with a clear message when not run as root.</summary>
    public static async Task<LabNetwork> CreateAsync()
    {
        LabRequirements.EnsureRoot();
        var network = new LabNetwork(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)));
        try
        {
            await network.CreateRouterAsync();
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Adds a host namespace on <paramref name="segment"/> at <paramref name="address"/> (IPv4 on that segment; the
    /// IPv6 address uses the same host number). Its interface is <c>eth0</c>; lo is up; default routes via the router.
    /// </summary>
    public async Task<LabHost> AddHostAsync(string name, LabSegment segment, string address)
    {
        if (name.Length is 0 or > 12 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            throw new ArgumentException("host names are 1-12 lowercase letters or digits (they name a veth)", nameof(name));
        if (_hosts.Any(h => h.Name == name))
            throw new ArgumentException($"host {name} already exists", nameof(name));
        var hostNumber = segment.HostNumber(address);
        var host = new LabHost(this, name, $"pcl{Id}-{name}", segment, address, segment.Ipv6(hostNumber));
        _hosts.Add(host);

        await AddNamespaceAsync(host.Namespace);
        var routerSide = $"v-{name}";
        await Ip("-n", Router.Namespace, "link", "add", routerSide, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await Ip("-n", Router.Namespace, "link", "set", routerSide, "master", segment.Bridge, "up");
        await Ip("-n", host.Namespace, "link", "set", "lo", "up");
        await Ip("-n", host.Namespace, "link", "set", "eth0", "up");
        await Ip("-n", host.Namespace, "addr", "add", $"{address}/24", "dev", "eth0");
        await Ip("-n", host.Namespace, "-6", "addr", "add", $"{host.Address6}/64", "dev", "eth0", "nodad");
        await Ip("-n", host.Namespace, "route", "add", "default", "via", segment.RouterAddress);
        await Ip("-n", host.Namespace, "-6", "route", "add", "default", "via", segment.RouterAddress6);
        return host;
    }

    /// <summary>
    /// Adds a namespace of its own, on no segment: only loopback, up (as wireguard.com/netns's namespaces).
    /// </summary>
    public async Task<LabHost> AddIsolatedHostAsync(string name)
    {
        if (name.Length is 0 or > 12 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            throw new ArgumentException("host names are 1-12 lowercase letters or digits", nameof(name));
        if (_hosts.Any(h => h.Name == name))
            throw new ArgumentException($"host {name} already exists", nameof(name));
        var host = new LabHost(this, name, $"pcl{Id}-{name}", segment: null, address: null, address6: null);
        _hosts.Add(host);
        await AddNamespaceAsync(host.Namespace);
        await Ip("-n", host.Namespace, "link", "set", "lo", "up");
        return host;
    }

    /// <summary>
    /// Adds a host that reaches everything through <paramref name="via"/>, as a container, a VM or a LAN routed through
    /// that host does: a veth pair, <paramref name="via"/>'s end named <c>r-NAME</c> with <paramref name="prefix"/>.1/24
    /// and <paramref name="prefix6"/>::1/64, the new host's <c>eth0</c> with .2 and ::2, its default routes via .1 and
    /// ::1. Forwarding and NAT on <paramref name="via"/> are the test's to set, as the host's owner would.
    /// </summary>
    public async Task<LabHost> AddRoutedHostAsync(string name, LabHost via, string prefix, string prefix6)
    {
        if (name.Length is 0 or > 12 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            throw new ArgumentException("host names are 1-12 lowercase letters or digits (they name a veth)", nameof(name));
        if (_hosts.Any(h => h.Name == name))
            throw new ArgumentException($"host {name} already exists", nameof(name));
        var host = new LabHost(this, name, $"pcl{Id}-{name}", segment: null, $"{prefix}.2", $"{prefix6}::2");
        _hosts.Add(host);

        await AddNamespaceAsync(host.Namespace);
        var viaSide = $"r-{name}";
        await Ip("-n", via.Namespace, "link", "add", viaSide, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await Ip("-n", via.Namespace, "addr", "add", $"{prefix}.1/24", "dev", viaSide);
        await Ip("-n", via.Namespace, "-6", "addr", "add", $"{prefix6}::1/64", "dev", viaSide, "nodad");
        await Ip("-n", via.Namespace, "link", "set", viaSide, "up");
        await Ip("-n", host.Namespace, "link", "set", "lo", "up");
        await Ip("-n", host.Namespace, "link", "set", "eth0", "up");
        await Ip("-n", host.Namespace, "addr", "add", $"{host.Address}/24", "dev", "eth0");
        await Ip("-n", host.Namespace, "-6", "addr", "add", $"{host.Address6}/64", "dev", "eth0", "nodad");
        await Ip("-n", host.Namespace, "route", "add", "default", "via", $"{prefix}.1");
        await Ip("-n", host.Namespace, "-6", "route", "add", "default", "via", $"{prefix6}::1");
        return host;
    }

    /// <summary>
    /// Adds a host namespace joined to <paramref name="to"/> alone by a veth pair, a private link beside the lab's
    /// internet (a management LAN): <paramref name="toAddress"/>/24 on <paramref name="interfaceOnTo"/> in
    /// <paramref name="to"/>, <paramref name="address"/>/24 on the new host's eth0. The new host has no default route.
    /// </summary>
    public async Task<LabHost> AddLinkedHostAsync(string name, LabHost to, string interfaceOnTo, string toAddress, string address)
    {
        if (name.Length is 0 or > 12 || !name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            throw new ArgumentException("host names are 1-12 lowercase letters or digits", nameof(name));
        if (_hosts.Any(h => h.Name == name))
            throw new ArgumentException($"host {name} already exists", nameof(name));
        var host = new LabHost(this, name, $"pcl{Id}-{name}", segment: null, address, address6: null);
        _hosts.Add(host);

        await AddNamespaceAsync(host.Namespace);
        await Ip("-n", to.Namespace, "link", "add", interfaceOnTo, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await Ip("-n", to.Namespace, "addr", "add", $"{toAddress}/24", "dev", interfaceOnTo);
        await Ip("-n", to.Namespace, "link", "set", interfaceOnTo, "up");
        await Ip("-n", host.Namespace, "link", "set", "lo", "up");
        await Ip("-n", host.Namespace, "link", "set", "eth0", "up");
        await Ip("-n", host.Namespace, "addr", "add", $"{address}/24", "dev", "eth0");
        return host;
    }

    /// <summary>A fresh interface name, unique on this machine for this run: <c>pc</c> + run id + a counter (≤ 15 chars).</summary>
    public string NewInterfaceName()
    {
        lock (_interfaces)
        {
            var name = $"pc{Id}{_interfaces.Count}";
            _interfaces.Add(name);
            return name;
        }
    }

    /// <summary>A private (0700) temporary directory removed with the network.</summary>
    public string CreateTempDirectory()
    {
        var info = Directory.CreateTempSubdirectory($"pcl{Id}-");
        File.SetUnixFileMode(info.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        lock (_tempDirectories)
            _tempDirectories.Add(info.FullName);
        return info.FullName;
    }

    /// <summary>Output of every process started in this network, for a failing test's message.</summary>
    public string Diagnostics() => string.Join("\n", _processes.Select(p => p.ToString()));

    internal void Track(LabProcess process) => _processes.Add(process);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await Task.WhenAll(_processes.Select(p => p.DisposeAsync().AsTask()));

        // Anything else still running inside (a daemon wg-quick started, a child that changed its group) is
        // killed before its namespace goes, so nothing outlives the test.
        foreach (var netns in Enumerable.Reverse(_namespaces))
        {
            var pids = await ProcessRunner.RunAsync(["ip", "netns", "pids", netns], RunOptions.Default);
            foreach (var line in pids.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(line, out var pid))
                    Native.Signal(pid, Native.SigKill);
            }

            await ProcessRunner.RunAsync(["ip", "netns", "del", netns], RunOptions.Default);

            // A namespace's own /etc files (its resolv.conf, which `ip netns exec` bind-mounts) go with it.
            var etc = Path.Combine("/etc/netns", netns);
            if (Directory.Exists(etc))
                Directory.Delete(etc, recursive: true);
        }

        foreach (var name in _interfaces)
        {
            File.Delete(Path.Combine(UapiDirectory, name + ".sock"));
            File.Delete(Path.Combine(GatewayRunDirectory, name + ".endpoints")); // left by a gateway killed last
        }
        foreach (var directory in _tempDirectories)
        {
            if (Directory.Exists(directory))
                Directory.Delete(directory, recursive: true);
        }
    }

    private async Task CreateRouterAsync()
    {
        await AddNamespaceAsync(Router.Namespace);
        var ns = Router.Namespace;
        await Router.RunCheckedAsync("sysctl", "-q", "-w", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1");
        await Ip("-n", ns, "link", "set", "lo", "up");
        foreach (var segment in LabSegment.All)
        {
            await Ip("-n", ns, "link", "add", segment.Bridge, "type", "bridge");
            await Ip("-n", ns, "addr", "add", $"{segment.RouterAddress}/24", "dev", segment.Bridge);
            await Ip("-n", ns, "-6", "addr", "add", $"{segment.RouterAddress6}/64", "dev", segment.Bridge, "nodad");
            await Ip("-n", ns, "link", "set", segment.Bridge, "up");
        }
    }

    private async Task AddNamespaceAsync(string netns)
    {
        await ProcessRunner.RunCheckedAsync("ip", "netns", "add", netns);
        _namespaces.Add(netns);

        // Duplicate address detection would hold new IPv6 addresses (link-local ones too) tentative for a
        // second or two; the lab's addresses are unique by construction.
        await ProcessRunner.RunCheckedAsync(
            "ip", "netns", "exec", netns, "sysctl", "-q", "-w",
            "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0");
    }

    private static Task<CommandResult> Ip(params string[] args) => ProcessRunner.RunCheckedAsync(["ip", .. args]);
}
