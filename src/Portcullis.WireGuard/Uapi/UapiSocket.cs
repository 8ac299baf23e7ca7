namespace Portcullis.WireGuard.Uapi;

/// <summary>Where a device's UAPI socket lives: <c>/var/run/wireguard/IFNAME.sock</c>, where stock <c>wg</c> looks.</summary>
public static class UapiSocket
{
    public const string DefaultDirectory = "/var/run/wireguard";

    public static string PathFor(string interfaceName, string directory = DefaultDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        return Path.Combine(directory, interfaceName + ".sock");
    }
}
