using System.Collections.Concurrent;
using System.Net;
using Portcullis.Core.RateLimiting;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Hosting;
using Portcullis.Gateway.Metrics;
using Portcullis.Gateway.Peers;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Reachability;

/// <summary>The answer to "is this port really open?".</summary>
public sealed record ReachabilityReport(
    ProbeOutcome Outcome, IPAddress PublicAddress, MappingProtocol Protocol, ushort PublicPort, ushort InternalPort);

/// <summary>Why a check was not run.</summary>
public enum ReachabilityRefusal
{
    /// <summary>No live mapping (dynamic or static) of the asker has this public port and protocol.</summary>
    NoSuchMapping,

    /// <summary>The asker checked too often: one a second, three at once.</summary>
    RateLimited,
}

// A check, from a peer (the tunnel-side listener, by its source address) or from the operator (the admin API):
//  1. find the live mapping: a dynamic lease or a live static forward with this public port and protocol — for a
//     peer, only its own (the source address must be the mapping's tunnel address): nobody probes others' ports
//  2. rate limit per asker (a peer's tunnel address, or "the operator"), so the gateway is no port scanner for hire
//  3. probe (MappingProbe) and count the result (portcullis_reachability_checks_total)

/// <summary>Runs reachability checks of live mappings. Thread-safe.</summary>
public sealed class ReachabilityChecker
{
    private readonly IForwardingAdmin _forwarding;
    private readonly PeerDirectory _peers;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;

    internal ReachabilityChecker(IForwardingAdmin forwarding, PeerDirectory peers, GatewayMetrics metrics, TimeProvider time)
    {
        _forwarding = forwarding;
        _peers = peers;
        _metrics = metrics;
        _time = time;
        _origin = time.GetTimestamp();
    }

    private const int RatePerSecond = 1;
    private const int Burst = 3;

    private static readonly IPAddress Operator = IPAddress.Any;

    private readonly ConcurrentDictionary<IPAddress, TokenBucket> _buckets = new();
    private readonly long _origin;

    /// <summary>A peer checks one of its own mappings; <paramref name="publicAddress"/> null: whichever address holds the port.</summary>
    public Task<(ReachabilityReport? Report, ReachabilityRefusal? Refusal)> CheckForPeerAsync(
        IPAddress peerAddress, MappingProtocol protocol, ushort publicPort, CancellationToken cancellationToken) =>
        CheckAsync(peerAddress, null, protocol, publicPort, cancellationToken);

    /// <summary>The operator checks any live mapping.</summary>
    public Task<(ReachabilityReport? Report, ReachabilityRefusal? Refusal)> CheckForOperatorAsync(
        IPAddress publicAddress, MappingProtocol protocol, ushort publicPort, CancellationToken cancellationToken) =>
        CheckAsync(null, publicAddress, protocol, publicPort, cancellationToken);

    private async Task<(ReachabilityReport?, ReachabilityRefusal?)> CheckAsync(
        IPAddress? peerAddress, IPAddress? publicAddress, MappingProtocol protocol, ushort publicPort, CancellationToken cancellationToken)
    {
        var target = Find(peerAddress, publicAddress, protocol, publicPort);
        if (target is null)
            return (null, ReachabilityRefusal.NoSuchMapping);
        var now = _time.GetElapsedTime(_origin);
        var bucket = _buckets.GetOrAdd(peerAddress ?? Operator, _ => new TokenBucket(RatePerSecond, Burst, now));
        if (!bucket.TryTake(now))
            return (null, ReachabilityRefusal.RateLimited);
        var (address, internalPort) = target.Value;
        var outcome = await MappingProbe.ProbeAsync(address, protocol, publicPort, cancellationToken).ConfigureAwait(false);
        _metrics.CountReachability(protocol == MappingProtocol.Tcp ? "tcp" : "udp", Name(outcome));
        return (new ReachabilityReport(outcome, address, protocol, publicPort, internalPort), null);
    }

    public static string Name(ProbeOutcome outcome) => outcome switch
    {
        ProbeOutcome.Reachable => "reachable",
        ProbeOutcome.Closed => "closed",
        _ => "no_answer",
    };

    private (IPAddress PublicAddress, ushort InternalPort)? Find(IPAddress? peerAddress, IPAddress? publicAddress, MappingProtocol protocol, ushort publicPort)
    {
        foreach (var mapping in _forwarding.Mappings)
        {
            // A PEER mapping is outbound only: probing its port from outside would report a working mapping closed.
            if (mapping.Remote is null && mapping.Protocol == protocol && mapping.PublicPort == publicPort
                && (publicAddress is null || mapping.PublicAddress.Equals(publicAddress))
                && (peerAddress is null || mapping.TunnelAddress.Equals(peerAddress)))
                return (mapping.PublicAddress, mapping.InternalPort);
        }
        foreach (var state in _forwarding.StaticForwards)
        {
            var rule = state.Rule;
            if (!state.Live || rule.Protocol != protocol || rule.ExternalPort != publicPort
                || (publicAddress is not null && !rule.PublicAddress.Equals(publicAddress)))
                continue;
            if (peerAddress is null || _peers.FindById(rule.PeerId)?.TunnelAddress.Equals(peerAddress) == true)
                return (rule.PublicAddress, rule.InternalPort);
        }
        return null;
    }
}
