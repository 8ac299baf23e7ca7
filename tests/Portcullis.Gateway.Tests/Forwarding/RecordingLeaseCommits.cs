using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

/// <summary>
/// Lease commits into a lease book of their own, each recorded by name ("created", "peer created", "renewed",
/// "released") with its reason: the decision tests see what a decision commits, and only after its commit ran.
/// </summary>
internal sealed class RecordingLeaseCommits : ILeaseCommits
{
    public LeaseBook Leases { get; } = new();

    public List<(string What, ReleaseReason? Reason)> Commits { get; } = [];

    public void Created(Mapping mapping)
    {
        Leases.Add(mapping);
        Commits.Add(("created", null));
    }

    public void PeerCreated(Mapping mapping)
    {
        Leases.Add(mapping);
        Commits.Add(("peer created", null));
    }

    public void Renewed(Mapping existing, Mapping renewed)
    {
        Leases.Replace(existing, renewed);
        Commits.Add(("renewed", null));
    }

    public void Released(List<Mapping> mappings, ReleaseReason reason)
    {
        mappings.ForEach(Leases.Remove);
        Commits.Add(("released", reason));
    }
}
