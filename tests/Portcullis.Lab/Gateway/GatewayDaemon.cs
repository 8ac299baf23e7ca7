using Portcullis.Lab.Harness;

namespace Portcullis.Lab.Gateway;

/// <summary>Runs `portcullis gateway --config` in a lab host, for every lab that needs our gateway.</summary>
internal static class GatewayDaemon
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Starts the gateway and returns once it says it is up; throws with its output if it exits or stalls.</summary>
    public static async Task<LabProcess> StartAsync(LabHost host, string configPath, IReadOnlyDictionary<string, string>? environment = null)
    {
        var variables = new Dictionary<string, string> { ["LOG_LEVEL"] = "info" };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
            variables[name] = value;
        var process = host.Start([LabBinaries.Portcullis, "gateway", "--config", configPath], variables);
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!process.Output.Contains("Gateway up", StringComparison.Ordinal))
        {
            if (process.HasExited)
                throw new LabCommandException($"the gateway exited with {process.ExitCode}:\n{process.Output}");
            if (DateTime.UtcNow > deadline)
                throw new LabCommandException($"the gateway did not come up within {StartTimeout}:\n{process.Output}");
            await Task.Delay(50);
        }
        return process;
    }

    /// <summary>SIGKILL: no chance to clean up, as a crash or an OOM kill.</summary>
    public static async Task KillAsync(LabProcess process)
    {
        Native.SignalGroup(process.Id, Native.SigKill);
        if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(10)))
            throw new LabCommandException("the gateway survived SIGKILL");
    }
}
