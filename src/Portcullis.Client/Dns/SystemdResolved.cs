using System.Net;

namespace Portcullis.Client.Dns;

/// <summary>
/// systemd-resolved as the client sees it: whether it runs here, whether /etc/resolv.conf is its own, and the
/// resolvectl command lines that give the tunnel link its DNS.
/// </summary>
public static class SystemdResolved
{
    /// <summary>resolved's runtime directory: its stub resolv.conf and varlink socket live there.</summary>
    public const string RuntimeDirectory = "/run/systemd/resolve";

    private const string StubAddress = "127.0.0.53";

    /// <summary>
    /// Running: its runtime directory exists (no resolved was ever started without it, so a host without one is
    /// answered without running anything) and it answers over D-Bus (<c>resolvectl status</c> exits 0: the directory
    /// of a stopped resolved stays behind).
    /// </summary>
    public static bool IsRunning(IResolvectl resolvectl, string runtimeDirectory = RuntimeDirectory)
    {
        ArgumentNullException.ThrowIfNull(resolvectl);
        return Directory.Exists(runtimeDirectory) && resolvectl.Run(["--no-pager", "status"]).ExitCode == 0;
    }

    /// <summary>
    /// resolv.conf is resolved's when it links into resolved's runtime directory (stub-resolv.conf, resolv.conf) or
    /// to the static stub systemd ships, or when it is a copy of the stub (its only nameserver 127.0.0.53). Then
    /// resolved alone decides, and the file is left alone.
    /// </summary>
    public static bool ManagesResolvConf(string? linkTarget, string? content, string resolvConfPath = ResolverConfiguration.DefaultPath)
    {
        if (linkTarget is not null)
        {
            var target = Path.GetFullPath(linkTarget, Path.GetDirectoryName(resolvConfPath) ?? "/");
            return target.StartsWith(RuntimeDirectory + "/", StringComparison.Ordinal)
                || target is "/usr/lib/systemd/resolv.conf" or "/lib/systemd/resolv.conf";
        }
        if (content is null)
            return false;
        var servers = content.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("nameserver", StringComparison.Ordinal))
            .Select(line => line["nameserver".Length..].Trim())
            .ToList();
        return servers.Count > 0 && servers.TrueForAll(s => s == StubAddress);
    }

    /// <summary>
    /// The tunnel's servers on the tunnel link, and the routing domain "~." with the search domains: "~." sends every
    /// name to this link's servers rather than to the other links' (what wg-quick gets through resolvconf -x). A name
    /// under another link's own domain still goes there; the kill switch keeps such a resolver on the LAN closed.
    /// </summary>
    public static IReadOnlyList<string[]> ApplyCommands(string interfaceName, IReadOnlyList<IPAddress> servers, IReadOnlyList<string> search)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(search);
        if (servers.Count == 0)
            throw new ArgumentException("no DNS server to set", nameof(servers));
        return
        [
            ["dns", interfaceName, .. servers.Select(s => s.ToString())],
            ["domain", interfaceName, "~.", .. search],
        ];
    }

    /// <summary>Drops everything set on the link (resolved also forgets a link that disappears).</summary>
    public static string[] RevertCommand(string interfaceName) => ["revert", interfaceName];
}
