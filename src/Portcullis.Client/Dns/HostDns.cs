using System.Net;

namespace Portcullis.Client.Dns;

/// <summary>Where the tunnel's DNS went on this host.</summary>
[Flags]
public enum DnsTargets
{
    None = 0,

    /// <summary>/etc/resolv.conf rewritten (the previous file saved).</summary>
    ResolvConf = 1,

    /// <summary>The tunnel link's DNS set in systemd-resolved.</summary>
    Resolved = 2,
}

/// <summary>
/// The tunnel's DNS on this host, wherever programs resolve names:
/// 1. systemd-resolved running → the tunnel link gets the servers and "~." (programs asking resolved — nss-resolve,
///    D-Bus, varlink, the 127.0.0.53 stub — use them, not the LAN's);
/// 2. resolv.conf not resolved's own (or no resolved) → rewritten too, for programs that read it themselves.
/// <see cref="Restore"/> undoes what <see cref="Apply"/> did; a failed Apply leaves nothing behind.
/// </summary>
public sealed class HostDns(string interfaceName, ResolverConfiguration resolvConf, IResolvectl resolvectl, string resolvedDirectory = SystemdResolved.RuntimeDirectory)
{
    private DnsTargets _applied;

    public static DnsTargets Choose(bool resolvedRunning, bool resolvConfIsResolveds) =>
        !resolvedRunning ? DnsTargets.ResolvConf
        : resolvConfIsResolveds ? DnsTargets.Resolved
        : DnsTargets.Resolved | DnsTargets.ResolvConf;

    /// <summary>Sets the servers where <see cref="Choose"/> says; throws <see cref="IOException"/> naming what failed.</summary>
    public DnsTargets Apply(IReadOnlyList<IPAddress> servers, IReadOnlyList<string> search)
    {
        var info = new FileInfo(resolvConf.ResolvConfPath);
        var content = info.LinkTarget is null && info.Exists ? File.ReadAllText(info.FullName) : null;
        var targets = Choose(SystemdResolved.IsRunning(resolvectl, resolvedDirectory),
            SystemdResolved.ManagesResolvConf(info.LinkTarget, content, resolvConf.ResolvConfPath));
        if (targets.HasFlag(DnsTargets.Resolved))
        {
            _applied |= DnsTargets.Resolved;
            foreach (var command in SystemdResolved.ApplyCommands(interfaceName, servers, search))
            {
                var (code, error) = resolvectl.Run(command);
                if (code != 0)
                {
                    Restore();
                    throw new IOException($"resolvectl {string.Join(' ', command)} failed ({code}): {error}");
                }
            }
        }
        if (targets.HasFlag(DnsTargets.ResolvConf))
        {
            _applied |= DnsTargets.ResolvConf;
            resolvConf.Apply(ResolverConfiguration.Render(interfaceName, servers, search));
        }
        return targets;
    }

    /// <summary>Undoes what was applied; each part is tried even when the other fails (the first failure is thrown).</summary>
    public void Restore()
    {
        IOException? failure = null;
        if (_applied.HasFlag(DnsTargets.Resolved))
        {
            var (code, error) = resolvectl.Run(SystemdResolved.RevertCommand(interfaceName));
            if (code != 0)
                failure = new IOException($"resolvectl revert {interfaceName} failed ({code}): {error}");
        }
        if (_applied.HasFlag(DnsTargets.ResolvConf))
            resolvConf.Restore();
        _applied = DnsTargets.None;
        if (failure is not null)
            throw failure;
    }
}
