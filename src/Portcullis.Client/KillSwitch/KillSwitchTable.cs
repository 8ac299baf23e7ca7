using Portcullis.Linux.Nftables;

namespace Portcullis.Client.KillSwitch;

/// <summary>
/// The kill switch in the kernel, through libnftables in the calling thread's network namespace. Kernel state: it
/// outlives the process (a SIGKILLed client leaves the host closed), and only <see cref="Remove"/> opens it again.
/// </summary>
public static class KillSwitchTable
{
    /// <summary>Installs or replaces the kill switch in one transaction; on failure the previous state holds.</summary>
    public static void Install(KillSwitchSpec spec)
    {
        using var nft = new NftContext();
        nft.Run(KillSwitchRuleset.Install(spec));
    }

    /// <summary>Replaces the ports accepted on the tunnel in one transaction; on failure the previous ports hold.</summary>
    public static void UpdateForwardedPorts(IReadOnlyList<ForwardedPort> ports)
    {
        using var nft = new NftContext();
        nft.Run(KillSwitchRuleset.UpdateForwardedPorts(ports));
    }

    /// <summary>Removes the kill switch; true if one was there.</summary>
    public static bool Remove()
    {
        using var nft = new NftContext();
        var present = IsInstalled(nft);
        nft.Run(KillSwitchRuleset.Remove());
        return present;
    }

    public static bool IsInstalled()
    {
        using var nft = new NftContext();
        return IsInstalled(nft);
    }

    private static bool IsInstalled(NftContext nft)
    {
        var tables = nft.Run("list tables");
        return tables.Contains($"table {KillSwitchRuleset.Family} {KillSwitchRuleset.TableName}\n", StringComparison.Ordinal)
            || tables.TrimEnd().EndsWith($"table {KillSwitchRuleset.Family} {KillSwitchRuleset.TableName}", StringComparison.Ordinal);
    }
}
