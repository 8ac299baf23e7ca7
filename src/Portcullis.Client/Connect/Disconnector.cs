using System.Net.Sockets;
using Portcullis.Client.Dns;
using Portcullis.Client.KillSwitch;
using Portcullis.Client.Routing;
using Portcullis.Client.Status;
using Portcullis.Linux;
using Portcullis.Linux.Interop;
using Portcullis.Linux.Links;
using Portcullis.WireGuard.Uapi;

namespace Portcullis.Client.Connect;

/// <summary>
/// `portcullis disconnect`: a running client is asked to stop (SIGTERM → its clean exit undoes everything); what a
/// killed one left behind — policy rules, a changed resolv.conf, a stale interface, the state file — is undone from
/// its state file; then the kill switch goes, persistent or not. Returns what it did, one line per step.
/// </summary>
public static class Disconnector
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    public static IReadOnlyList<string> Run(string stateDirectory, string? interfaceName, string resolvConfPath = ResolverConfiguration.DefaultPath)
    {
        var store = new ClientStateStore(stateDirectory);
        var done = new List<string>();
        var states = interfaceName is null
            ? store.ReadAll()
            : store.Read(interfaceName) is { } one ? [one] : [];
        foreach (var state in states)
        {
            if (IsAlive(state.Pid) && Stop(state.Pid))
                done.Add($"{state.Interface}: stopped the client (pid {state.Pid})");
            CleanUpAfter(state, store, resolvConfPath, done);
        }
        if (KillSwitchTable.Remove())
            done.Add("kill switch removed");
        if (done.Count == 0)
            done.Add("nothing to do: no client state and no kill switch");
        return done;
    }

    private static void CleanUpAfter(ClientState state, ClientStateStore store, string resolvConfPath, List<string> done)
    {
        if (state.DnsBackup.Length > 0 && new ResolverConfiguration(resolvConfPath, state.DnsBackup).Restore())
            done.Add($"{state.Interface}: resolver configuration restored");
        if (state.Table is int table)
        {
            var rules = new List<RoutingRule>();
            if (state.FullTunnel4)
                rules.AddRange(RoutePlanner.FullTunnelRules(AddressFamily.InterNetwork, table, state.FwMark));
            if (state.FullTunnel6)
                rules.AddRange(RoutePlanner.FullTunnelRules(AddressFamily.InterNetworkV6, table, state.FwMark));
            if (AppliedRoutes.RemoveRules(rules) is var removed and > 0)
                done.Add($"{state.Interface}: {removed} routing rule(s) removed");
            if (rules.Count > 0)
                AppliedRoutes.RemoveGuard(state.Interface);
        }
        if (Link.Exists(state.Interface) && DeleteLink(state.Interface))
            done.Add($"{state.Interface}: stale interface deleted");
        var socket = UapiSocket.PathFor(state.Interface);
        if (File.Exists(socket))
            File.Delete(socket);
        store.Delete(state.Interface);
    }

    private static bool Stop(int pid)
    {
        if (!ProcessSignals.Send(pid, ProcessSignals.SigTerm))
            return false;
        var deadline = DateTime.UtcNow + StopTimeout;
        while (IsAlive(pid) && DateTime.UtcNow < deadline)
            Thread.Sleep(50);
        return !IsAlive(pid);
    }

    private static bool DeleteLink(string name)
    {
        try
        {
            Link.Delete(name);
            return true;
        }
        catch (LinuxCallException)
        {
            // Gone in between, or not ours to delete: the step reports nothing.
            return false;
        }
    }

    /// <summary>A zombie (exited, not yet reaped) counts as gone.</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
