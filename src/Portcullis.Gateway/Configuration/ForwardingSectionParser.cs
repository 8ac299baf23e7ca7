using Portcullis.Gateway.Forwarding;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// [forwarding] → <see cref="ForwardingPolicy"/>. DESIGN §6's three keys (enabled, port_range, max_per_peer) and the
/// policy's optional ones: min_lifetime, max_lifetime, quarantine, reconnect_grace (seconds), blocked_ports,
/// blocked_internal_ports (ports and "LOW-HIGH" ranges; a list replaces the default list), requests_per_second,
/// burst, allow_suggested_port, audit_log, audit_retention (seconds), forward_all_dedicated_ports,
/// inbound_new_per_second, inbound_max_connections (0 = no limit), max_filters_per_mapping. Keys left out keep the
/// policy's defaults.
/// </summary>
internal static class ForwardingSectionParser
{
    private const long MaxSeconds = 7 * 24 * 3600;

    private const long MaxFilters = ForwardingPolicy.MaxFiltersPerMappingLimit;

    // Ten years: anything longer is no retention at all.
    private const long MaxRetentionSeconds = 3650L * 24 * 3600;

    public static ForwardingPolicy Parse(TomlSection section)
    {
        var defaults = new ForwardingPolicy();
        var range = defaults.PortRange;
        var rangeText = section.String("port_range");
        if (rangeText is not null)
        {
            if (ConfigValues.TryParsePortRange(rangeText, out var parsed))
                range = parsed;
            else
                section.Error("port_range", "expected \"LOW-HIGH\" with 1 <= LOW <= HIGH <= 65535");
        }

        var policy = new ForwardingPolicy
        {
            Enabled = section.Boolean("enabled") ?? defaults.Enabled,
            PortRange = range,
            MaxPerPeer = (int)(section.Integer("max_per_peer", 0, 65535) ?? defaults.MaxPerPeer),
            MaxFiltersPerMapping = (int)(section.Integer("max_filters_per_mapping", 0, MaxFilters) ?? defaults.MaxFiltersPerMapping),
            MinLifetime = Seconds(section, "min_lifetime", 1) ?? defaults.MinLifetime,
            MaxLifetime = Seconds(section, "max_lifetime", 1) ?? defaults.MaxLifetime,
            Quarantine = Seconds(section, "quarantine", 0) ?? defaults.Quarantine,
            ReconnectGrace = Seconds(section, "reconnect_grace", 0) ?? defaults.ReconnectGrace,
            BlockedExternalPorts = PortSet(section, "blocked_ports") ?? defaults.BlockedExternalPorts,
            BlockedInternalPorts = PortSet(section, "blocked_internal_ports") ?? defaults.BlockedInternalPorts,
            RequestsPerSecond = (int)(section.Integer("requests_per_second", 1, 10_000) ?? defaults.RequestsPerSecond),
            Burst = (int)(section.Integer("burst", 1, 10_000) ?? defaults.Burst),
            AllowSuggestedPort = section.Boolean("allow_suggested_port") ?? defaults.AllowSuggestedPort,
            AuditLog = section.Boolean("audit_log") ?? defaults.AuditLog,
            AuditRetention = section.Integer("audit_retention", 1, MaxRetentionSeconds) is { } retention
                ? TimeSpan.FromSeconds(retention)
                : defaults.AuditRetention,
            InboundNewPerSecond = (int)(section.Integer("inbound_new_per_second", 0, InboundLimits.Max) ?? defaults.InboundNewPerSecond),
            InboundMaxConnections = (int)(section.Integer("inbound_max_connections", 0, InboundLimits.Max) ?? defaults.InboundMaxConnections),
            ForwardAllDedicatedPorts = section.Boolean("forward_all_dedicated_ports") ?? defaults.ForwardAllDedicatedPorts,
        };
        if (policy.MinLifetime > policy.MaxLifetime)
        {
            section.Error(section.Has("max_lifetime") ? "max_lifetime" : "min_lifetime", "min_lifetime must not exceed max_lifetime");
            return policy;
        }
        try
        {
            // The policy's own checks, in case it grows rules this reader does not know yet.
            policy.Validate();
        }
        catch (ArgumentException e)
        {
            section.Error(e.ParamName ?? "", e.Message);
        }
        return policy;
    }

    private static TimeSpan? Seconds(TomlSection section, string key, long min) =>
        section.Integer(key, min, MaxSeconds) is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>An array of ports (integers) and ranges ("LOW-HIGH" strings), as the set of every port they cover.</summary>
    private static HashSet<ushort>? PortSet(TomlSection section, string key)
    {
        var values = section.Array(key);
        if (values is null)
            return null;
        var ports = new HashSet<ushort>();
        foreach (var value in values)
        {
            switch (value)
            {
                case IntegerValueSyntax { Value: >= 1 and <= 65535 } port:
                    ports.Add((ushort)port.Value);
                    break;
                case StringValueSyntax text when ConfigValues.TryParsePortRange(text.Value ?? "", out var range):
                    for (var p = (int)range.First; p <= range.Last; p++)
                        ports.Add((ushort)p);
                    break;
                default:
                    section.Error(key, "expected an array of ports (1-65535) and \"LOW-HIGH\" ranges, e.g. [25, \"135-139\"]");
                    return null;
            }
        }
        return ports;
    }
}
