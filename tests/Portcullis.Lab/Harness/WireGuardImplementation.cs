namespace Portcullis.Lab.Harness;

/// <summary>The userspace WireGuard a lab host runs. Every tunnel test is parameterised by it.</summary>
public enum WireGuardImplementation
{
    /// <summary>The reference peer: Debian's <c>wireguard-go -f IFNAME</c>.</summary>
    WireGuardGo,

    /// <summary>Ours: <c>portcullis tunnel -f IFNAME</c> (DESIGN.md §6).</summary>
    Ours,
}

public static class WireGuardImplementationExtensions
{
    /// <summary>The foreground command that creates TUN <paramref name="interfaceName"/> and its UAPI socket.</summary>
    public static string[] ForegroundCommand(this WireGuardImplementation implementation, string interfaceName) =>
        implementation switch
        {
            WireGuardImplementation.WireGuardGo => ["wireguard-go", "-f", interfaceName],
            WireGuardImplementation.Ours => [LabBinaries.Portcullis, "tunnel", "-f", interfaceName],
            _ => throw new ArgumentOutOfRangeException(nameof(implementation)),
        };

    /// <summary>The single word wg-quick runs as <c>WG_QUICK_USERSPACE_IMPLEMENTATION</c>.</summary>
    public static string WgQuickImplementation(this WireGuardImplementation implementation) =>
        implementation switch
        {
            WireGuardImplementation.WireGuardGo => "wireguard-go",
            WireGuardImplementation.Ours => "portcullis-tunnel",
            _ => throw new ArgumentOutOfRangeException(nameof(implementation)),
        };
}
