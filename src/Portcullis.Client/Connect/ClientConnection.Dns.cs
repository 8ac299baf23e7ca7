using Portcullis.Client.Config;
using Portcullis.Client.Dns;

namespace Portcullis.Client.Connect;

/// <summary>
/// The tunnel's DNS: through systemd-resolved and/or resolv.conf (<see cref="HostDns"/> decides), undone on the way
/// out. A start that fails before setting DNS still puts back a resolv.conf a killed predecessor left changed.
/// </summary>
public sealed partial class ClientConnection
{
    private void SetDns(ConnectOptions options, string name, WgQuickConfig config)
    {
        // The backup path is in the state file before resolv.conf changes, so `disconnect` restores it after a SIGKILL.
        var backup = Path.Combine(options.StateDirectory, name + ".resolv.conf");
        UpdateState(_state with { DnsBackup = backup });
        _dns = new HostDns(name, new ResolverConfiguration(options.ResolvConfPath, backup), new Resolvectl());
        var targets = _dns.Apply(config.Interface.DnsServers, config.Interface.DnsSearch);
        var where = targets switch
        {
            DnsTargets.Resolved => $"systemd-resolved on {name} (resolv.conf is resolved's)",
            DnsTargets.ResolvConf => $"{options.ResolvConfPath} (previous saved in {backup})",
            _ => $"systemd-resolved on {name} and {options.ResolvConfPath} (previous saved in {backup})",
        };
        _log.DnsSet(string.Join(", ", config.Interface.DnsServers), where);
    }

    private void RestoreDns()
    {
        if (_dns is not null)
            _dns.Restore();
        else if (_state.DnsBackup.Length > 0)
            new ResolverConfiguration(_resolvConfPath, _state.DnsBackup).Restore();
    }
}
