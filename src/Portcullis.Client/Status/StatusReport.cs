using System.Globalization;
using System.Text;
using Portcullis.Client.KillSwitch;

namespace Portcullis.Client.Status;

/// <summary>`portcullis status` on the client: per interface its state, last handshake and forwarded port; then the kill switch.</summary>
public static class StatusReport
{
    public static string Build(IReadOnlyList<ClientState> states, Func<ClientState, ClientFacts> facts, bool killSwitchInstalled, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(facts);
        var text = new StringBuilder();
        if (states.Count == 0)
            text.Append("no client connected\n");
        foreach (var state in states)
        {
            var f = facts(state);
            var tunnel = !f.ProcessAlive ? $"down (client pid {state.Pid} is gone)"
                : !f.InterfaceExists ? $"{state.Phase} (interface missing)"
                : state.Phase;
            text.Append(CultureInfo.InvariantCulture, $"interface: {state.Interface}\n");
            text.Append(CultureInfo.InvariantCulture, $"  tunnel: {tunnel}\n");
            text.Append(CultureInfo.InvariantCulture, $"  config: {state.ConfigPath}\n");
            text.Append(CultureInfo.InvariantCulture, $"  endpoint: {state.Endpoints}\n");
            text.Append(CultureInfo.InvariantCulture, $"  routing: {(state.FullTunnel4 || state.FullTunnel6 ? $"full tunnel (fwmark {state.FwMark}, table {state.Table})" : "split tunnel")}\n");
            text.Append(CultureInfo.InvariantCulture, $"  latest handshake: {Handshake(f.Peers, now)}\n");
            text.Append(CultureInfo.InvariantCulture, $"  forwarded port: {(state.Forward.Length == 0 ? "none requested" : state.ForwardedPort.Length == 0 ? $"{state.Forward}: none yet" : $"{state.ForwardedPort} ({state.Forward}), lease until {state.LeaseExpires}")}\n");
            if (state.ForwardedPort.Length > 0)
                text.Append(CultureInfo.InvariantCulture, $"  reachable from the internet: {(state.Reachability.Length == 0 ? "checking" : state.Reachability)}\n");
        }
        text.Append(CultureInfo.InvariantCulture, $"kill switch: {(killSwitchInstalled ? $"on (table {KillSwitchRuleset.Family} {KillSwitchRuleset.TableName})" : "off")}\n");
        return text.ToString();
    }

    private static string Handshake(IReadOnlyList<PeerStatus>? peers, DateTimeOffset now)
    {
        if (peers is null)
            return "unknown (no UAPI socket)";
        var latest = peers.Where(p => p.LastHandshake is not null).Select(p => p.LastHandshake!.Value).DefaultIfEmpty().Max();
        if (latest == default)
            return "never";
        var ago = now - latest;
        return $"{latest:O} ({Math.Max(0, (long)ago.TotalSeconds)} s ago)";
    }
}

/// <summary>What <c>status</c> found out about one client beyond its state file.</summary>
public sealed record ClientFacts(bool ProcessAlive, bool InterfaceExists, IReadOnlyList<PeerStatus>? Peers);
