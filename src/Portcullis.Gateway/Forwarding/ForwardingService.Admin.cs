using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Forwarding;

// What the admin API (a later issue) calls: the live mappings, revocation, live policy changes. Each change is
// all or nothing: when the kernel refuses it, it throws ForwardingTableException and nothing changed.
public sealed partial class ForwardingService
{
    /// <summary>The policy in force.</summary>
    public ForwardingPolicy Policy
    {
        get
        {
            lock (_lock)
                return _policy;
        }
    }

    /// <summary>A snapshot of every live dynamic mapping.</summary>
    public IReadOnlyList<ActiveMapping> Mappings
    {
        get
        {
            lock (_lock)
                return ForwardingReadModel.Mappings(_leases, Now, _time.GetUtcNow());
        }
    }

    /// <summary>Removes the mapping on this public address, protocol and port; false if there is none.</summary>
    public bool Revoke(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        lock (_lock)
        {
            ThrowIfNotRunning();
            if (!_leases.TryGet(new PortKey(Normalize(publicAddress), protocol, publicPort), out var mapping))
                return false;
            ReleaseLocked([mapping], ReleaseReason.Revoked);
            return true;
        }
    }

    /// <summary>Removes every dynamic mapping of one peer (its session stays); returns how many.</summary>
    public int RevokePeer(string peerId)
    {
        ArgumentNullException.ThrowIfNull(peerId);
        lock (_lock)
        {
            ThrowIfNotRunning();
            if (!_sessions.TryGetByPeer(peerId, out var session) || session.Mappings.Count == 0)
                return 0;
            var doomed = new List<Mapping>(session.Mappings);
            ReleaseLocked(doomed, ReleaseReason.Revoked);
            return doomed.Count;
        }
    }

    /// <summary>
    /// Puts <paramref name="policy"/> in force for every request from now on, and removes the mappings it no
    /// longer allows: all of them when forwarding is disabled, those outside the range or on a now-blocked port
    /// otherwise. Mappings over a lowered quota or lifetime stay until they lapse. Throws
    /// <see cref="ArgumentException"/> for an invalid policy and <see cref="ForwardingTableException"/> when the
    /// kernel refuses; the old policy stays in force then.
    /// </summary>
    public void UpdatePolicy(ForwardingPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        policy.Validate();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var doomed = _leases.NotAllowedBy(policy);
            if (doomed.Count > 0)
                ReleaseLocked(doomed, ReleaseReason.PolicyChanged);

            var old = _policy;
            _policy = policy;
            if (old.RequestsPerSecond != policy.RequestsPerSecond || old.Burst != policy.Burst)
                _sessions.RenewRequestBuckets(() => NewRequestBucket(policy));
            SyncDedicatedLocked();
            ForwardingLog.PolicyUpdated(_logger, doomed.Count);
        }
    }
}
