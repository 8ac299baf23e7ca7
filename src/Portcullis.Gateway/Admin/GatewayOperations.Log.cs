using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Admin;

/// <summary>
/// What the operations log, event ids 6100–6119. Peers by name and tunnel address (the operator's own words);
/// never a key, never a public port linked to a peer (DESIGN invariant 8).
/// </summary>
internal static partial class GatewayOperationsLog
{
    [LoggerMessage(6100, LogLevel.Information, "Peer {Name} ({Address}) added{Generated}")]
    private static partial void PeerAddedCore(ILogger logger, string name, IPAddress address, string generated);

    public static void PeerAdded(ILogger logger, string name, IPAddress address, bool generatedKey) =>
        PeerAddedCore(logger, name, address, generatedKey ? " with a key pair made by the gateway" : "");

    [LoggerMessage(6101, LogLevel.Information, "Peer {Name} ({Address}) removed: session, mappings and flows ended")]
    public static partial void PeerRemoved(ILogger logger, string name, IPAddress address);

    [LoggerMessage(6102, LogLevel.Information, "Peer {Name} enabled: {Enabled}")]
    public static partial void PeerEnabledChanged(ILogger logger, string name, bool enabled);

    [LoggerMessage(6103, LogLevel.Information, "Peer {Name}: {Count} static forwards added")]
    public static partial void ForwardsAdded(ILogger logger, string name, int count);

    [LoggerMessage(6104, LogLevel.Information, "Forwarding policy overrides set")]
    public static partial void PolicySet(ILogger logger);

    [LoggerMessage(6105, LogLevel.Warning, "The stored policy overrides are not valid here and were not applied: {Reason}")]
    public static partial void StoredPolicyInvalid(ILogger logger, string reason);

    [LoggerMessage(6106, LogLevel.Warning, "The kernel refused the stored policy's inbound limits; the previous ones stay in force: {Reason}")]
    public static partial void InboundLimitsRefused(ILogger logger, string reason);
}
