using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

// Policy: the config file's [forwarding] with the stored overrides on top. A set is checked whole before it is
// stored, so an override that makes the policy invalid is a 400 and never reaches the store or the service.
public sealed partial class GatewayOperations
{
    public async Task<PolicyView> GetPolicyAsync(CancellationToken cancellationToken = default)
    {
        var overrides = await _store.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
        return new PolicyView(_service.Policy, overrides);
    }

    public async Task<PolicyView> SetPolicyAsync(ServerPolicy overrides, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(overrides);
        var effective = Effective(overrides, _configuredPolicy);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _store.SetPolicyAsync(overrides, cancellationToken).ConfigureAwait(false);
            _service.UpdatePolicy(effective);
            GatewayOperationsLog.PolicySet(_logger);
            return new PolicyView(_service.Policy, overrides);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>The configured policy with <paramref name="overrides"/> on top, validated; 400 when it is not valid.</summary>
    internal static ForwardingPolicy Effective(ServerPolicy overrides, ForwardingPolicy configured)
    {
        if (overrides.MaxPerPeer is < 0)
            throw new AdminRequestException("max_per_peer must be at least 0.");
        var effective = overrides.ApplyTo(configured);
        try
        {
            effective.Validate();
        }
        catch (ArgumentException e)
        {
            throw new AdminRequestException($"The policy is not valid: {e.Message}", e);
        }
        return effective;
    }
}
