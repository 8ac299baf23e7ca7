using System.Globalization;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Store;

/// <summary>
/// <see cref="ServerPolicy"/> as the key/value rows both stores keep in their <c>settings</c> table. The fleet's
/// overrides use the bare keys (<c>forwarding.enabled</c>); one gateway's use the same keys under
/// <c>gateway/NAME/</c>, so a per-gateway override needs no schema change and a build that does not know it ignores it.
/// </summary>
internal static class PolicySettings
{
    // The keys this build knows; rows with other keys (a newer gateway of the same fleet) are kept and ignored.
    public const string EnabledKey = "forwarding.enabled";
    public const string PortRangeKey = "forwarding.port_range";
    public const string MaxPerPeerKey = "forwarding.max_per_peer";
    public const string AllDedicatedPortsKey = "dedicated.forward_all_ports";
    public const string MaxFiltersPerMappingKey = "forwarding.max_filters_per_mapping";
    public const string InboundNewPerSecondKey = "forwarding.inbound_new_per_second";
    public const string InboundMaxConnectionsKey = "forwarding.inbound_max_connections";

    /// <summary>"" for the fleet, <c>gateway/NAME/</c> for one gateway.</summary>
    public static string Prefix(string? gateway) => string.IsNullOrEmpty(gateway) ? "" : $"gateway/{gateway}/";

    /// <summary>Each known key under <paramref name="prefix"/> with its text, null meaning "no override: delete the row".</summary>
    public static IEnumerable<(string Key, string? Value)> Rows(ServerPolicy policy, string prefix)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.MaxPerPeer < 0)
            throw new ArgumentException("MaxPerPeer is at least 0.", nameof(policy));
        if (policy.MaxFiltersPerMapping is < 0 or > ForwardingPolicy.MaxFiltersPerMappingLimit)
            throw new ArgumentException($"MaxFiltersPerMapping lies between 0 and {ForwardingPolicy.MaxFiltersPerMappingLimit}.", nameof(policy));
        if (policy.InboundNewPerSecond is < 0 || policy.InboundMaxConnections is < 0)
            throw new ArgumentException("Inbound limits are at least 0.", nameof(policy));
        yield return (prefix + EnabledKey, Switch(policy.ForwardingEnabled));
        yield return (prefix + PortRangeKey, policy.PortRange?.ToString());
        yield return (prefix + MaxPerPeerKey, policy.MaxPerPeer?.ToString(CultureInfo.InvariantCulture));
        yield return (prefix + AllDedicatedPortsKey, Switch(policy.ForwardAllDedicatedPorts));
        yield return (prefix + MaxFiltersPerMappingKey, policy.MaxFiltersPerMapping?.ToString(CultureInfo.InvariantCulture));
        yield return (prefix + InboundNewPerSecondKey, policy.InboundNewPerSecond?.ToString(CultureInfo.InvariantCulture));
        yield return (prefix + InboundMaxConnectionsKey, policy.InboundMaxConnections?.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The policy the rows under <paramref name="prefix"/> hold; <paramref name="unreadable"/> explains a value this build cannot read.</summary>
    public static ServerPolicy Read(IReadOnlyDictionary<string, string> values, string prefix, Func<string, string, Exception> unreadable)
    {
        T? Parse<T>(string key, Func<string, T?> parse)
            where T : struct
        {
            if (!values.TryGetValue(prefix + key, out var text))
                return null;
            return parse(text) ?? throw unreadable(prefix + key, text);
        }

        return new ServerPolicy
        {
            ForwardingEnabled = Parse(EnabledKey, text => bool.TryParse(text, out var b) ? b : (bool?)null),
            PortRange = Parse(PortRangeKey, text => PortRange.TryParse(text, out var range) ? range : null),
            MaxPerPeer = Parse(MaxPerPeerKey,
                text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : (int?)null),
            ForwardAllDedicatedPorts = Parse(AllDedicatedPortsKey, text => bool.TryParse(text, out var b) ? b : (bool?)null),
            MaxFiltersPerMapping = Parse(MaxFiltersPerMappingKey, text =>
                int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= ForwardingPolicy.MaxFiltersPerMappingLimit ? n : (int?)null),
            InboundNewPerSecond = Parse(InboundNewPerSecondKey, Count),
            InboundMaxConnections = Parse(InboundMaxConnectionsKey, Count),
        };
    }

    private static int? Count(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= InboundLimits.Max ? n : null;

    private static string? Switch(bool? value) => value is { } on ? (on ? "true" : "false") : null;
}
