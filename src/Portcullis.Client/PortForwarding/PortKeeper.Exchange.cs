using Microsoft.Extensions.Logging;
using Portcullis.PortMapping;
using Portcullis.PortMapping.ClientSide;

namespace Portcullis.Client.PortForwarding;

/// <summary>One request for one mapping, what its answer means for the lease, and publishing a new port.</summary>
public sealed partial class PortKeeper
{
    private async Task ExchangeAsync(MappingSlot slot, CancellationToken stopping)
    {
        var request = new ClientMapRequest(
            slot.Protocol,
            _options.Forward.InternalPort ?? 0,
            SuggestedPort(slot),
            (uint)Math.Clamp(_options.RequestedLifetime.TotalSeconds, 1, uint.MaxValue))
        {
            Nonce = slot.Nonce,
            Filters = _options.Forward.AllowFrom,
        };
        var answer = await _client.MapAsync(request, stopping).ConfigureAwait(false);
        var now = _time.GetUtcNow();
        switch (answer.Outcome)
        {
            case MappingOutcome.Granted:
                await GrantedAsync(slot, answer, now, stopping).ConfigureAwait(false);
                break;
            case MappingOutcome.Refused:
                // The gateway no longer honours this mapping (lost state and no session yet, a kernel failure,
                // policy): drop the lease and ask again after a backoff. The nonce stays: a gateway that still holds
                // the mapping answers only to it, and one that lost it takes any.
                slot.Held = false;
                Retry(slot, now);
                _logger.Refused(Name(slot), answer.Wire.ToString(), answer.ResultCode, RetryDelay(slot).TotalSeconds);
                LeaseLost(slot);
                break;
            default:
                Retry(slot, now);
                _logger.NoAnswer(Name(slot), RetryDelay(slot).TotalSeconds);
                if (slot.Held && slot.Expires <= now)
                {
                    slot.Held = false;
                    LeaseLost(slot);
                }
                break;
        }
    }

    private async Task GrantedAsync(MappingSlot slot, MappingAnswer answer, DateTimeOffset now, CancellationToken stopping)
    {
        if (_epoch.Observe(answer.Epoch, now) && slot.EverGranted)
        {
            // This answer is a fresh mapping already; the others are gone at the gateway and must be made again.
            _logger.StateLost("the gateway's epoch went back or jumped");
            RemapAll(now);
        }
        if (_nextEpochCheck < now + _options.EpochCheckInterval)
            _nextEpochCheck = now + _options.EpochCheckInterval; // this answer just told us the epoch
        var changed = !slot.Held || slot.ExternalPort != answer.ExternalPort;
        slot.Held = true;
        slot.EverGranted = true;
        slot.Failures = 0;
        slot.ExternalPort = answer.ExternalPort;
        slot.InternalPort = answer.InternalPort != 0 ? answer.InternalPort : answer.ExternalPort;
        slot.ExternalAddress = answer.ExternalAddress ?? slot.ExternalAddress;
        var lifetime = TimeSpan.FromSeconds(answer.LifetimeSeconds);
        slot.Expires = now + lifetime;
        var refresh = lifetime * _options.RefreshFraction;
        slot.Due = now + (refresh < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : refresh);
        if (changed)
            _logger.Mapped(answer.ExternalPort, Name(slot), slot.InternalPort, answer.Wire.ToString(), answer.LifetimeSeconds);
        else
            _logger.Refreshed(answer.ExternalPort, Name(slot), answer.LifetimeSeconds);

        UpdateLeases();
        if (slot != _slots[0])
        {
            if (changed && _slots[0].Held && _slots[0].ExternalPort != slot.ExternalPort)
                _logger.PortsDiffer(slot.ExternalPort, _slots[0].ExternalPort);
            RaiseLeaseChanged(LeaseOf(slot, slot.Protocol == MappingProtocol.Udp ? ForwardProtocol.Udp : ForwardProtocol.Tcp));
            return;
        }
        var lease = LeaseOf(slot, _options.Forward.Protocol);
        Current = lease;
        RaiseLeaseChanged(lease);
        if (slot.ExternalPort != _publishedPort)
        {
            _publishedPort = slot.ExternalPort;
            await PublishAsync(slot.ExternalPort, stopping).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The port to suggest: the one this mapping held before, which a gateway that lost its state may give back (a
    /// refresh keeps whatever the mapping has: PCP answers an existing mapping with itself). For <c>both</c> nothing
    /// more is needed: a Portcullis gateway gives the second protocol of an internal port the first one's public
    /// port by itself, suggestion or not.
    /// </summary>
    private static ushort SuggestedPort(MappingSlot slot) => slot.ExternalPort;

    private static PortLease LeaseOf(MappingSlot slot, ForwardProtocol protocol) =>
        new(protocol, slot.ExternalAddress, slot.ExternalPort, slot.InternalPort, slot.Expires);

    private void LeaseLost(MappingSlot slot)
    {
        if (slot == _slots[0])
            Current = null;
        UpdateLeases();
    }

    private void UpdateLeases()
    {
        var leases = new List<PortLease>(_slots.Length);
        foreach (var held in _slots)
        {
            if (held.Held)
                leases.Add(LeaseOf(held, held.Protocol == MappingProtocol.Udp ? ForwardProtocol.Udp : ForwardProtocol.Tcp));
        }
        Leases = leases;
    }

    private void Retry(MappingSlot slot, DateTimeOffset now)
    {
        slot.Failures++;
        slot.Due = now + RetryDelay(slot);
    }

    private TimeSpan RetryDelay(MappingSlot slot)
    {
        var delay = _options.RetryInitial * Math.Pow(2, Math.Min(slot.Failures - 1, 16));
        return delay > _options.RetryMax ? _options.RetryMax : delay;
    }

    private void RaiseLeaseChanged(PortLease lease)
    {
        try
        {
            LeaseChanged?.Invoke(lease);
        }
        catch (Exception e)
        {
            // A subscriber's failure (e.g. writing the state file) must not stop the lease being kept.
            _logger.LoopFailed("LeaseChanged handler: " + e.GetType().Name);
        }
    }

    private async Task PublishAsync(ushort port, CancellationToken stopping)
    {
        if (_options.PortFile is { Length: > 0 } path)
        {
            try
            {
                PortFile.Write(path, port);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _logger.PortFileFailed(path, e.Message);
            }
        }
        foreach (var publication in _publications)
            publication.Publish(port);
        if (_options.OnPortChange is { Length: > 0 } command)
            await PortChangeHook.RunAsync(command, port, _options.HookTimeLimit, _logger, stopping).ConfigureAwait(false);
    }

    private async Task DeleteMappingsAsync()
    {
        using var limit = new CancellationTokenSource(_options.DeleteTimeLimit);
        foreach (var slot in _slots)
        {
            if (!slot.EverGranted)
                continue;
            var request = new ClientMapRequest(slot.Protocol, _options.Forward.InternalPort ?? 0, 0, 0) { Nonce = slot.Nonce };
            try
            {
                var answer = await _client.MapAsync(request, limit.Token).ConfigureAwait(false);
                if (answer.Outcome == MappingOutcome.Granted)
                    _logger.Deleted(slot.ExternalPort, Name(slot));
                else
                    _logger.DeleteFailed(Name(slot), answer.Outcome == MappingOutcome.NoAnswer ? "no answer" : $"result {answer.ResultCode}");
            }
            catch (OperationCanceledException)
            {
                _logger.DeleteFailed(Name(slot), "time limit reached");
            }
        }
        Current = null;
        Leases = [];
    }

    private static string Name(MappingSlot slot) => slot.Protocol == MappingProtocol.Udp ? "udp" : "tcp";
}
