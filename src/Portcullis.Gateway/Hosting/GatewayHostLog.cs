using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// What the host logs, event ids 6000–6009 (the gateway command's own failure is 6010, conntrack 6020–6029, peer
/// memory 6030–6039). Peers appear by name with their tunnel address (operators need that); no line names a
/// public port or a remote address (DESIGN invariant 8) — audit logging of mappings belongs to the forwarding
/// service and is off by default.
/// </summary>
internal static partial class GatewayHostLog
{
    [LoggerMessage(6000, LogLevel.Information, "Gateway up: {Interface} {Address}/{PrefixLength}, UDP {ListenPort}, {Peers} peers, public {PublicInterface}; port requests on {Address}:5351")]
    public static partial void Started(ILogger logger, string @interface, IPAddress address, int prefixLength, ushort listenPort, int peers, string publicInterface);

    [LoggerMessage(6001, LogLevel.Information, "Peer {Name} ({Address}) connected")]
    public static partial void SessionStarted(ILogger logger, string name, IPAddress address);

    [LoggerMessage(6002, LogLevel.Information, "Peer {Name} ({Address}) disconnected")]
    public static partial void SessionEnded(ILogger logger, string name, IPAddress address);

    [LoggerMessage(6003, LogLevel.Debug, "A session event names a peer the store does not have (removed meanwhile?); ignored")]
    public static partial void UnknownPeer(ILogger logger);

    [LoggerMessage(6004, LogLevel.Error, "Handling a session event failed; the forwarding state may lag until the next event")]
    public static partial void SessionEventFailed(ILogger logger, Exception exception);

    [LoggerMessage(6005, LogLevel.Information, "Gateway stopping: mappings removed, forwarding table uninstalled")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(6006, LogLevel.Warning, "Shutdown step failed: {Step}")]
    public static partial void ShutdownStepFailed(ILogger logger, string step, Exception exception);

    [LoggerMessage(6007, LogLevel.Information, "Store {Path}: applied the config's peers ({Added} added, {Updated} updated, {Assignments} dedicated addresses, {Forwards} static forwards written); {Peers} peers, {Enabled} enabled")]
    public static partial void StoreLoaded(ILogger logger, string path, int added, int updated, int assignments, int forwards, int peers, int enabled);

    [LoggerMessage(6008, LogLevel.Warning, "The stored policy overrides are not valid with this config ({Reason}); the config's policy applies until they are set again")]
    public static partial void StoredPolicyInvalid(ILogger logger, string reason);

    [LoggerMessage(6009, LogLevel.Information, "Admin API listening on {Endpoint}")]
    public static partial void AdminListening(ILogger logger, System.Net.IPEndPoint endpoint);
}
