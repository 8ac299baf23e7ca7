namespace Portcullis.Lab.Harness;

/// <summary>
/// A userspace WireGuard interface running in a lab host as a foreground child: started, then configured by
/// stock <c>wg</c> and <c>ip</c> exactly as an operator would. Disposal stops it with SIGTERM (the network would too).
/// </summary>
public sealed class WireGuardDevice : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private WireGuardDevice(LabHost host, WireGuardImplementation implementation, string interfaceName, LabProcess process)
    {
        Host = host;
        Implementation = implementation;
        Interface = interfaceName;
        Process = process;
    }

    public LabHost Host { get; }

    public WireGuardImplementation Implementation { get; }

    public string Interface { get; }

    public LabProcess Process { get; }

    public string SocketPath => $"/var/run/wireguard/{Interface}.sock";

    /// <summary>Starts the implementation and returns once its TUN and UAPI socket exist.</summary>
    public static async Task<WireGuardDevice> StartAsync(LabHost host, WireGuardImplementation implementation)
    {
        var interfaceName = host.Network.NewInterfaceName();
        var environment = new Dictionary<string, string> { ["WG_PROCESS_FOREGROUND"] = "1" };
        implementation.AddEnvironment(environment);
        var process = host.Start(implementation.ForegroundCommand(interfaceName), environment);
        var device = new WireGuardDevice(host, implementation, interfaceName, process);

        var deadline = DateTime.UtcNow + StartTimeout;
        while (!File.Exists(device.SocketPath) || !(await host.RunAsync("ip", "link", "show", interfaceName)).Succeeded)
        {
            if (process.HasExited)
                throw new LabCommandException($"{implementation} exited with {process.ExitCode} before {interfaceName} existed:\n{process.Output}");
            if (DateTime.UtcNow > deadline)
                throw new LabCommandException($"{implementation} did not create {interfaceName} and its socket within {StartTimeout}:\n{process.Output}");
            await Task.Delay(50);
        }

        return device;
    }

    /// <summary>Adds inner addresses (CIDR, IPv4 or IPv6) and brings the interface up.</summary>
    public async Task UpAsync(params string[] addresses)
    {
        foreach (var address in addresses)
        {
            if (address.Contains(':', StringComparison.Ordinal))
                await Host.RunCheckedAsync("ip", "-6", "addr", "add", address, "dev", Interface, "nodad");
            else
                await Host.RunCheckedAsync("ip", "addr", "add", address, "dev", Interface);
        }

        await Host.RunCheckedAsync("ip", "link", "set", Interface, "up");
    }

    public Task SetConfAsync(string configuration) => WgTools.SetConfAsync(Host, Interface, configuration);

    public Task<string> SetAsync(params string[] arguments) => WgTools.SetAsync(Host, Interface, arguments);

    public Task<IReadOnlyList<WgPeerDump>> ShowPeersAsync() => WgTools.ShowPeersAsync(Host, Interface);

    public ValueTask DisposeAsync() => Process.DisposeAsync();

    public override string ToString() => $"{Implementation} {Interface} on {Host}";
}
