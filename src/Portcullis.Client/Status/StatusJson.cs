using System.Globalization;
using System.Text;
using System.Text.Json;
using Portcullis.Client.KillSwitch;

namespace Portcullis.Client.Status;

/// <summary>
/// `portcullis status --json` on a client: what the text report says, as numbers and flags a script or a local metrics
/// collector (node exporter's textfile collector, a cron job) can read without parsing prose. Snake-case names, times
/// ISO 8601 UTC, byte counts as WireGuard counts them.
/// </summary>
public static class StatusJson
{
    public static string Build(IReadOnlyList<ClientState> states, Func<ClientState, ClientFacts> facts, bool killSwitchInstalled, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(states);
        ArgumentNullException.ThrowIfNull(facts);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("clients");
            foreach (var state in states)
                Write(json, state, facts(state), now);
            json.WriteEndArray();
            json.WriteBoolean("kill_switch", killSwitchInstalled);
            json.WriteString("kill_switch_table", $"{KillSwitchRuleset.Family} {KillSwitchRuleset.TableName}");
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Write(Utf8JsonWriter json, ClientState state, ClientFacts f, DateTimeOffset now)
    {
        json.WriteStartObject();
        json.WriteString("interface", state.Interface);
        json.WriteString("phase", state.Phase);
        json.WriteBoolean("up", f.ProcessAlive && f.InterfaceExists && state.Phase == "up");
        json.WriteBoolean("process_alive", f.ProcessAlive);
        json.WriteBoolean("interface_exists", f.InterfaceExists);
        json.WriteNumber("pid", state.Pid);
        json.WriteString("config", state.ConfigPath);
        json.WriteString("endpoint", state.Endpoints);
        json.WriteBoolean("full_tunnel", state.FullTunnel4 || state.FullTunnel6);
        json.WriteString("started_utc", state.Started.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        var handshake = f.Peers?.Where(p => p.LastHandshake is not null).Select(p => p.LastHandshake!.Value).DefaultIfEmpty().Max();
        if (handshake is { } latest && latest != default)
        {
            json.WriteString("latest_handshake_utc", latest.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
            json.WriteNumber("latest_handshake_age_seconds", Math.Max(0, (long)(now - latest).TotalSeconds));
        }
        else
        {
            json.WriteNull("latest_handshake_utc");
            json.WriteNull("latest_handshake_age_seconds");
        }
        if (f.Peers is null)
        {
            json.WriteNull("received_bytes");
            json.WriteNull("sent_bytes");
        }
        else
        {
            json.WriteNumber("received_bytes", f.Peers.Aggregate(0UL, (sum, p) => sum + p.RxBytes));
            json.WriteNumber("sent_bytes", f.Peers.Aggregate(0UL, (sum, p) => sum + p.TxBytes));
        }
        json.WriteBoolean("kill_switch_requested", state.KillSwitch);
        WriteOrNull(json, "forward", state.Forward);
        WriteOrNull(json, "forwarded_port", state.ForwardedPort);
        WriteOrNull(json, "lease_expires_utc", state.LeaseExpires);
        WriteOrNull(json, "reachability", state.Reachability);
        if (state.Reachability.Length == 0)
            json.WriteNull("reachable");
        else
            json.WriteBoolean("reachable", state.Reachability == "reachable");
        json.WriteEndObject();
    }

    private static void WriteOrNull(Utf8JsonWriter json, string name, string value)
    {
        if (value.Length == 0)
            json.WriteNull(name);
        else
            json.WriteString(name, value);
    }
}
