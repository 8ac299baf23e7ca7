using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

// Policy: the config file's [forwarding] with the stored overrides on top — in a fleet, the fleet's overrides and then
// this gateway's own. A set is checked whole before it is stored, so an override that makes the policy invalid is a
// 400 and never reaches the store or the service. Another gateway's overrides are stored here and put in force there
// (it hears the change).
public sealed partial class GatewayOperations
{
    public Task<PolicyView> GetPolicyAsync(CancellationToken cancellationToken = default) => GetPolicyAsync(null, cancellationToken);

    public Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, CancellationToken cancellationToken = default) =>
        SetPolicyAsync(policyOverrides, null, cancellationToken);

    /// <summary>
    /// The policy set for <paramref name="gateway"/> (null: the fleet's, or one box's): its overrides, and the policy in
    /// force when that is this gateway's (null for another gateway, whose file this one does not know).
    /// </summary>
    public async Task<PolicyView> GetPolicyAsync(string? gateway, CancellationToken cancellationToken = default)
    {
        var policyOverrides = gateway is null
            ? await _store.GetPolicyAsync(cancellationToken).ConfigureAwait(false)
            : await _store.GetGatewayPolicyAsync(CheckGateway(gateway), cancellationToken).ConfigureAwait(false);
        return new PolicyView(gateway is null || gateway == GatewayName ? _service.Policy : null, policyOverrides, gateway);
    }

    public async Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, string? gateway, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policyOverrides);
        if (gateway is not null)
            CheckGateway(gateway);
        ThrowIfStoreAway();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Checked against this gateway's file, with the layer not being set as it stands.
            var fleet = gateway is null ? policyOverrides : await _store.GetPolicyAsync(cancellationToken).ConfigureAwait(false);
            var own = GatewayName is { } name && gateway != name
                ? await _store.GetGatewayPolicyAsync(name, cancellationToken).ConfigureAwait(false)
                : new ServerPolicy();
            var layered = gateway is null ? own.Over(policyOverrides) : policyOverrides.Over(fleet);
            var effective = Effective(layered, _configuredPolicy);

            var mine = gateway is null || gateway == GatewayName;
            // The kernel first: limits it refuses are a 503 with nothing stored; a store that then refuses puts the
            // previous limits back.
            var limitsBefore = _service.Policy.InboundLimits;
            if (mine)
                SetInboundLimits(effective.InboundLimits, limitsBefore);
            try
            {
                if (gateway is null)
                    await _store.SetPolicyAsync(policyOverrides, cancellationToken).ConfigureAwait(false);
                else
                    await _store.SetGatewayPolicyAsync(gateway, policyOverrides, cancellationToken).ConfigureAwait(false);
            }
            catch when (mine && effective.InboundLimits != limitsBefore)
            {
                SetInboundLimits(limitsBefore, effective.InboundLimits);
                throw;
            }
            if (mine)
            {
                _service.UpdatePolicy(effective);
                GatewayOperationsLog.PolicySet(_logger);
            }
            return new PolicyView(mine ? _service.Policy : null, policyOverrides, gateway);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Puts per-forward inbound limits in force in the kernel (set by the host: NftInboundLimits.Set); null where no kernel
    /// is attached (tests of the API alone).
    /// </summary>
    internal Action<InboundLimits>? ApplyInboundLimits { get; init; }

    private void SetInboundLimits(InboundLimits limits, InboundLimits current)
    {
        if (limits != current)
            ApplyInboundLimits?.Invoke(limits);
    }

    /// <summary>The configured policy with <paramref name="overrides"/> on top, validated; 400 when it is not valid.</summary>
    internal static ForwardingPolicy Effective(ServerPolicy overrides, ForwardingPolicy configured)
    {
        if (overrides.MaxPerPeer is < 0)
            throw new AdminRequestException("max_per_peer must be at least 0.");
        if (overrides.InboundNewPerSecond is < 0 || overrides.InboundMaxConnections is < 0)
            throw new AdminRequestException("inbound_new_per_second and inbound_max_connections must be at least 0.");
        if (overrides.MaxFiltersPerMapping is < 0 or > ForwardingPolicy.MaxFiltersPerMappingLimit)
            throw new AdminRequestException($"max_filters_per_mapping must lie between 0 and {ForwardingPolicy.MaxFiltersPerMappingLimit}.");
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

    private string CheckGateway(string gateway)
    {
        if (!Configuration.FleetSectionParser.IsName(gateway))
            throw new AdminRequestException($"gateway: '{gateway}' is not a gateway name (letters, digits, '-', '_', '.').");
        if (GatewayName is null)
            throw new AdminRequestException("This gateway is not part of a fleet: its policy has no per-gateway layer.");
        return gateway;
    }
}
