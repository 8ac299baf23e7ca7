namespace Portcullis.Lab.Harness;

/// <summary>
/// Our client, <c>portcullis connect</c>, on a lab host: started until its state file says "up", and on lab disposal
/// disconnected with the files it leaves under /run/portcullis removed.
/// </summary>
internal static class PortcullisClient
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Starts <c>portcullis connect --config CONFIG OPTIONS</c>; returns once the state file says "up".</summary>
    public static Task<LabProcess> ConnectAsync(LabHost client, string config, string interfaceName, params string[] options) =>
        StartAsync(client, [LabBinaries.Portcullis, "connect", "--config", config, .. options], environment: null, interfaceName);

    /// <summary>Starts a client's whole command line (a unit's ExecStart=, say); returns once the state file says "up".</summary>
    public static async Task<LabProcess> StartAsync(LabHost client, IReadOnlyList<string> command,
        IReadOnlyDictionary<string, string>? environment, string interfaceName)
    {
        var process = client.Start(command, environment);
        var statePath = $"/run/portcullis/{interfaceName}.state";
        await Wait.ForStartAsync(process, "connect", async () =>
            File.Exists(statePath) && (await File.ReadAllTextAsync(statePath)).Contains("phase=up", StringComparison.Ordinal),
            StartTimeout, TimeSpan.FromMilliseconds(100), $"did not come up in {StartTimeout}");
        return process;
    }

    /// <summary>The resolv.conf a client namespace starts with (a documentation address nothing answers on).</summary>
    public const string LabResolvConf = "nameserver 192.0.2.53\n";

    /// <summary>
    /// Gives <paramref name="client"/> a resolv.conf of its own: `ip netns exec` bind-mounts /etc/netns/NS/resolv.conf
    /// over /etc/resolv.conf when it exists, so DNS = in a client config rewrites that file and never the machine's.
    /// The network removes it with the namespace.
    /// </summary>
    public static void IsolateResolvConf(LabHost client)
    {
        var directory = Path.Combine("/etc/netns", client.Namespace);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "resolv.conf"), LabResolvConf);
    }

    /// <summary>Disconnects the client, disposes <paramref name="network"/> whatever happened, then removes the client's files.</summary>
    public static async ValueTask DisposeLabAsync(LabHost client, string interfaceName, LabNetwork network)
    {
        try
        {
            await client.RunAsync([LabBinaries.Portcullis, "disconnect", "--interface", interfaceName], RunOptions.Default with { Timeout = TimeSpan.FromSeconds(30) });
        }
        finally
        {
            await network.DisposeAsync();
            foreach (var leftover in new[] { ".state", ".resolv.conf", ".state.tmp" })
            {
                if (File.Exists($"/run/portcullis/{interfaceName}{leftover}"))
                    File.Delete($"/run/portcullis/{interfaceName}{leftover}");
            }
        }
    }
}
