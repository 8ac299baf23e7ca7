using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Forwarding;

/// <summary>
/// Commits lease changes the kernel has taken to the parts they concern, in one place: the lease book (the lease),
/// the allocator (a granted port forgets its memory; a released one is quarantined and, after an expiry or a session
/// end, remembered for the peer's reconnect), the expiry clock (armed for the new expiry) and the audit log. Owns no
/// state; not thread-safe: the service's lock guards it.
/// </summary>
internal sealed class LeaseCommits(
    LeaseBook leases, PortAllocator ports, LeaseExpiry expiry, Func<ForwardingPolicy> policy, Func<TimeSpan> now, ILogger logger)
    : ILeaseCommits
{
    public void Created(Mapping mapping)
    {
        leases.Add(mapping);
        ports.Granted(mapping.LeaseKey);
        expiry.Arm(mapping.ExpiresAt, now());
        if (policy().AuditLog)
        {
            ForwardingLog.AuditCreated(logger, mapping.Owner.PeerId, mapping.Protocol, mapping.PublicAddress, mapping.PublicPort,
                mapping.Owner.TunnelAddress, mapping.InternalPort, (long)mapping.Lifetime.TotalSeconds);
        }
    }

    // Unlike Created, no remembered port is spent: a PEER mapping's lease key names the MAP of the same internal port,
    // whose remembered port must stay for it (PortMemory's contract).
    public void PeerCreated(Mapping mapping)
    {
        leases.Add(mapping);
        expiry.Arm(mapping.ExpiresAt, now());
        if (policy().AuditLog && mapping.Remote is { } remote)
        {
            ForwardingLog.AuditPeerCreated(logger, mapping.Owner.PeerId, mapping.Protocol, mapping.Owner.TunnelAddress, mapping.InternalPort,
                remote.Address, remote.Port, mapping.PublicAddress, mapping.PublicPort, (long)mapping.Lifetime.TotalSeconds);
        }
    }

    public void Renewed(Mapping existing, Mapping renewed)
    {
        leases.Replace(existing, renewed);
        expiry.Arm(renewed.ExpiresAt, now());
    }

    public void Released(List<Mapping> mappings, ReleaseReason reason)
    {
        var current = policy();
        var at = now();
        var remember = reason is ReleaseReason.Expired or ReleaseReason.SessionEnded;
        foreach (var mapping in mappings)
        {
            leases.Remove(mapping);
            ports.Released(mapping, remember, current, at);
            if (current.AuditLog)
            {
                ForwardingLog.AuditRemoved(logger, reason.ToString(), mapping.Owner.PeerId, mapping.Protocol,
                    mapping.PublicAddress, mapping.PublicPort, mapping.Owner.TunnelAddress, mapping.InternalPort);
            }
        }
    }
}
