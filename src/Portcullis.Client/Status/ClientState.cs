using System.Globalization;
using System.Text;

namespace Portcullis.Client.Status;

/// <summary>
/// What a running (or killed) <c>connect</c> left for <c>status</c> and <c>disconnect</c>: a small key=value file,
/// 0600, under /run/portcullis/, one per interface. It holds no secret. Rules are kept as their parameters so
/// <c>disconnect</c> can delete them after a SIGKILL.
/// </summary>
public sealed record ClientState
{
    public const string DefaultDirectory = "/run/portcullis";

    public required string Interface { get; init; }

    public required int Pid { get; init; }

    public required string ConfigPath { get; init; }

    public required DateTimeOffset Started { get; init; }

    /// <summary>"starting", "up", "stopping".</summary>
    public string Phase { get; init; } = "starting";

    public string Endpoints { get; init; } = string.Empty;

    public bool KillSwitch { get; init; }

    public bool Persistent { get; init; }

    public int? Table { get; init; }

    public uint FwMark { get; init; }

    public bool FullTunnel4 { get; init; }

    public bool FullTunnel6 { get; init; }

    /// <summary>Where the previous resolv.conf was saved; empty when DNS was not changed.</summary>
    public string DnsBackup { get; init; } = string.Empty;

    public string Forward { get; init; } = string.Empty;

    public string ForwardedPort { get; init; } = string.Empty;

    public string LeaseExpires { get; init; } = string.Empty;

    /// <summary>The last reachability check of the forwarded port ("reachable", "nothing listening on …", …); empty before one.</summary>
    public string Reachability { get; init; } = string.Empty;

    public static string PathFor(string directory, string interfaceName) => Path.Combine(directory, interfaceName + ".state");

    public string Serialize()
    {
        var text = new StringBuilder();
        void Add(string key, string value) => text.Append(key).Append('=').Append(value.ReplaceLineEndings(" ")).Append('\n');
        Add("interface", Interface);
        Add("pid", Pid.ToString(CultureInfo.InvariantCulture));
        Add("config", ConfigPath);
        Add("started", Started.ToString("O", CultureInfo.InvariantCulture));
        Add("phase", Phase);
        Add("endpoints", Endpoints);
        Add("kill_switch", KillSwitch ? "true" : "false");
        Add("persistent", Persistent ? "true" : "false");
        Add("table", Table?.ToString(CultureInfo.InvariantCulture) ?? "off");
        Add("fwmark", FwMark.ToString(CultureInfo.InvariantCulture));
        Add("full_tunnel4", FullTunnel4 ? "true" : "false");
        Add("full_tunnel6", FullTunnel6 ? "true" : "false");
        Add("dns_backup", DnsBackup);
        Add("forward", Forward);
        Add("forwarded_port", ForwardedPort);
        Add("lease_expires", LeaseExpires);
        Add("reachability", Reachability);
        return text.ToString();
    }

    /// <summary>Reads a state file's text; null when a required field is missing or malformed.</summary>
    public static ClientState? Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
                values[line[..equals]] = line[(equals + 1)..];
        }
        string Get(string key) => values.GetValueOrDefault(key, string.Empty);
        if (Get("interface").Length == 0
            || !int.TryParse(Get("pid"), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            || !DateTimeOffset.TryParse(Get("started"), CultureInfo.InvariantCulture, DateTimeStyles.None, out var started))
            return null;
        return new ClientState
        {
            Interface = Get("interface"),
            Pid = pid,
            ConfigPath = Get("config"),
            Started = started,
            Phase = Get("phase"),
            Endpoints = Get("endpoints"),
            KillSwitch = Get("kill_switch") == "true",
            Persistent = Get("persistent") == "true",
            Table = int.TryParse(Get("table"), NumberStyles.None, CultureInfo.InvariantCulture, out var table) ? table : null,
            FwMark = uint.TryParse(Get("fwmark"), NumberStyles.None, CultureInfo.InvariantCulture, out var mark) ? mark : 0,
            FullTunnel4 = Get("full_tunnel4") == "true",
            FullTunnel6 = Get("full_tunnel6") == "true",
            DnsBackup = Get("dns_backup"),
            Forward = Get("forward"),
            ForwardedPort = Get("forwarded_port"),
            LeaseExpires = Get("lease_expires"),
            Reachability = Get("reachability"),
        };
    }
}
