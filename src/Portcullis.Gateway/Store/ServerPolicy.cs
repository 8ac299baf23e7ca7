using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Store;

/// <summary>
/// Server policy set through the admin API, stored so it survives a restart. Typed, so every caller gets checked
/// values and one place lists what can be set; every value is an override of the configuration file, null meaning
/// "the file's value applies". Stored as key/value rows, so a new setting needs no schema migration and a gateway
/// of an older build in the same fleet ignores keys it does not know.
/// </summary>
public sealed record ServerPolicy
{
    /// <summary>Overrides <see cref="ForwardingPolicy.Enabled"/>.</summary>
    public bool? ForwardingEnabled { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.PortRange"/>.</summary>
    public PortRange? PortRange { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.MaxPerPeer"/>; at least 0.</summary>
    public int? MaxPerPeer { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.ForwardAllDedicatedPorts"/>: every port of a dedicated address goes to its peer (minus blocked ports).</summary>
    public bool? ForwardAllDedicatedPorts { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.MaxFiltersPerMapping"/>; 0 to <see cref="ForwardingPolicy.MaxFiltersPerMappingLimit"/>.</summary>
    public int? MaxFiltersPerMapping { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.InboundNewPerSecond"/>; 0 = no limit.</summary>
    public int? InboundNewPerSecond { get; init; }

    /// <summary>Overrides <see cref="ForwardingPolicy.InboundMaxConnections"/>; 0 = no limit.</summary>
    public int? InboundMaxConnections { get; init; }

    /// <summary>These overrides on top of <paramref name="lower"/>'s (a gateway's over the fleet's): each value set here wins.</summary>
    public ServerPolicy Over(ServerPolicy lower)
    {
        ArgumentNullException.ThrowIfNull(lower);
        return new ServerPolicy
        {
            ForwardingEnabled = ForwardingEnabled ?? lower.ForwardingEnabled,
            PortRange = PortRange ?? lower.PortRange,
            MaxPerPeer = MaxPerPeer ?? lower.MaxPerPeer,
            ForwardAllDedicatedPorts = ForwardAllDedicatedPorts ?? lower.ForwardAllDedicatedPorts,
            MaxFiltersPerMapping = MaxFiltersPerMapping ?? lower.MaxFiltersPerMapping,
            InboundNewPerSecond = InboundNewPerSecond ?? lower.InboundNewPerSecond,
            InboundMaxConnections = InboundMaxConnections ?? lower.InboundMaxConnections,
        };
    }

    /// <summary>The configured policy with these overrides on top.</summary>
    public ForwardingPolicy ApplyTo(ForwardingPolicy configured)
    {
        ArgumentNullException.ThrowIfNull(configured);
        return configured with
        {
            Enabled = ForwardingEnabled ?? configured.Enabled,
            PortRange = PortRange ?? configured.PortRange,
            MaxPerPeer = MaxPerPeer ?? configured.MaxPerPeer,
            ForwardAllDedicatedPorts = ForwardAllDedicatedPorts ?? configured.ForwardAllDedicatedPorts,
            MaxFiltersPerMapping = MaxFiltersPerMapping ?? configured.MaxFiltersPerMapping,
            InboundNewPerSecond = InboundNewPerSecond ?? configured.InboundNewPerSecond,
            InboundMaxConnections = InboundMaxConnections ?? configured.InboundMaxConnections,
        };
    }
}
