namespace Portcullis.Lab.Harness;

/// <summary>The userspace WireGuard a lab host runs. Every tunnel test is parameterised by it.</summary>
public enum WireGuardImplementation
{
    /// <summary>The reference peer: Debian's <c>wireguard-go -f IFNAME</c>.</summary>
    WireGuardGo,

    /// <summary>Ours: <c>portcullis tunnel -f IFNAME</c> (DESIGN.md §6).</summary>
    Ours,

    /// <summary>Ours with the TUN offloads forced off (<c>PORTCULLIS_TUN_OFFLOAD=off</c>): the plain packet path.</summary>
    OursOffloadOff,
}

public static class WireGuardImplementationExtensions
{
    /// <summary>The foreground command that creates TUN <paramref name="interfaceName"/> and its UAPI socket.</summary>
    public static string[] ForegroundCommand(this WireGuardImplementation implementation, string interfaceName) =>
        implementation switch
        {
            WireGuardImplementation.WireGuardGo => ["wireguard-go", "-f", interfaceName],
            WireGuardImplementation.Ours or WireGuardImplementation.OursOffloadOff => [LabBinaries.Portcullis, "tunnel", "-f", interfaceName],
            _ => throw new ArgumentOutOfRangeException(nameof(implementation)),
        };

    /// <summary>Environment the implementation's daemon starts with, beyond the foreground switch.</summary>
    public static void AddEnvironment(this WireGuardImplementation implementation, IDictionary<string, string> environment)
    {
        if (implementation == WireGuardImplementation.OursOffloadOff)
            environment["PORTCULLIS_TUN_OFFLOAD"] = "off";
    }

    /// <summary>The single word wg-quick runs as <c>WG_QUICK_USERSPACE_IMPLEMENTATION</c>.</summary>
    public static string WgQuickImplementation(this WireGuardImplementation implementation) =>
        implementation switch
        {
            WireGuardImplementation.WireGuardGo => "wireguard-go",
            WireGuardImplementation.Ours or WireGuardImplementation.OursOffloadOff => "portcullis-tunnel",
            _ => throw new ArgumentOutOfRangeException(nameof(implementation)),
        };
}
