using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>[forwarding]: the three keys of DESIGN §6 and the optional policy keys of the forwarding service.</summary>
internal static class ForwardingSectionParser
{
    private const long MaxSeconds = 7 * 24 * 3600;

    public static ForwardingSection Parse(TomlSection section)
    {
        var defaults = new ForwardingSection();
        var range = defaults.PortRange;
        var rangeText = section.String("port_range");
        if (rangeText is not null && !ConfigValues.TryParsePortRange(rangeText, out range))
        {
            section.Error("port_range", "expected \"LOW-HIGH\" with 1 <= LOW <= HIGH <= 65535");
            range = defaults.PortRange;
        }

        var minLifetime = Seconds(section, "min_lifetime", 1);
        var maxLifetime = Seconds(section, "max_lifetime", 1);
        if (minLifetime > maxLifetime)
            section.Error("max_lifetime", "must not be below min_lifetime");

        return new ForwardingSection
        {
            Enabled = section.Boolean("enabled") ?? defaults.Enabled,
            PortRange = range,
            MaxPerPeer = (int)(section.Integer("max_per_peer", 0, 65535) ?? defaults.MaxPerPeer),
            MinLifetime = minLifetime,
            MaxLifetime = maxLifetime,
            BlockedPorts = PortList(section, "blocked_ports"),
            BlockedInternalPorts = PortList(section, "blocked_internal_ports"),
            Quarantine = Seconds(section, "quarantine", 0),
            Grace = Seconds(section, "grace", 0),
            RequestsPerMinute = (int?)section.Integer("requests_per_minute", 1, 60_000),
        };
    }

    private static TimeSpan? Seconds(TomlSection section, string key, long min) =>
        section.Integer(key, min, MaxSeconds) is { } seconds ? TimeSpan.FromSeconds(seconds) : null;

    /// <summary>An array of ports (integers) and ranges ("LOW-HIGH" strings).</summary>
    private static List<PortRange>? PortList(TomlSection section, string key)
    {
        var values = section.Array(key);
        if (values is null)
            return null;
        var ranges = new List<PortRange>(values.Count);
        foreach (var value in values)
        {
            switch (value)
            {
                case IntegerValueSyntax { Value: >= 1 and <= 65535 } port:
                    ranges.Add(new PortRange((ushort)port.Value, (ushort)port.Value));
                    break;
                case StringValueSyntax text when ConfigValues.TryParsePortRange(text.Value ?? "", out var range):
                    ranges.Add(range);
                    break;
                default:
                    section.Error(key, "expected an array of ports (1-65535) and \"LOW-HIGH\" ranges, e.g. [25, \"135-139\"]");
                    return null;
            }
        }
        return ranges;
    }
}
