using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Peers;
using Portcullis.WireGuard.Device;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Carries the device's session events to the forwarding service. The device raises them on a pipeline thread that
/// must not wait (a session end means an nftables transaction and a conntrack flush), so events are queued and
/// applied in order on one task: public key → stored peer (the directory, as it is when the event is applied) →
/// peer id + tunnel address → service. Resolving at apply time, not at enqueue time, is what keeps a peer removed
/// or disabled in between from getting a session back: its start event then finds nothing (or a disabled peer)
/// and is dropped.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SessionEvents : IAsyncDisposable
{
    private readonly Channel<(bool Started, string PublicKey)> _events =
        Channel.CreateUnbounded<(bool, string)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WireGuardDevice _device;
    private readonly PeerDirectory _peers;
    private readonly ForwardingService _service;
    private readonly ILogger _logger;
    private readonly Task _pump;

    public SessionEvents(WireGuardDevice device, PeerDirectory peers, ForwardingService service, ILogger logger)
    {
        _device = device;
        _peers = peers;
        _service = service;
        _logger = logger;
        _pump = Task.Run(PumpAsync);
        device.SessionEstablished += OnEstablished;
        device.SessionEnded += OnEnded;
    }

    /// <summary>
    /// Called with a peer's tunnel address after its session started: the host points this at the port-mapping
    /// server's unicast announcement, so a client that reconnects to a gateway which lost its state learns the new
    /// epoch at once (multicast does not cross WireGuard). Null until that server runs.
    /// </summary>
    public Action<System.Net.IPAddress>? SessionStartedHook { get; set; }

    /// <summary>Called with a peer's id after its session started (true) or ended (false): a fleet's presence.</summary>
    public Action<string, bool>? PresenceHook { get; set; }

    private void OnEstablished(PeerSessionEvent e) => _events.Writer.TryWrite((true, Convert.ToBase64String(e.PublicKey)));

    private void OnEnded(PeerSessionEvent e) => _events.Writer.TryWrite((false, Convert.ToBase64String(e.PublicKey)));

    private async Task PumpAsync()
    {
        await foreach (var (started, key) in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var peer = Apply(started, key);
                if (peer is null)
                {
                    // A peer removed at runtime: the operations ended its forwarding state already.
                    GatewayHostLog.UnknownPeer(_logger);
                }
                else if (started && peer.Enabled)
                {
                    GatewayHostLog.SessionStarted(_logger, peer.Name, peer.TunnelAddress);
                    SessionStartedHook?.Invoke(peer.TunnelAddress);
                    PresenceHook?.Invoke(peer.Id, true);
                }
                else if (!started)
                {
                    GatewayHostLog.SessionEnded(_logger, peer.Name, peer.TunnelAddress);
                    PresenceHook?.Invoke(peer.Id, false);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                GatewayHostLog.SessionEventFailed(_logger, e);
            }
        }
    }

    // Resolve and apply under the session gate (see PeerDirectory.SessionGate): a disabled peer gets no session.
    private Store.StoredPeer? Apply(bool started, string key)
    {
        lock (_peers.SessionGate)
        {
            var peer = _peers.FindByKey(key);
            if (peer is null)
                return null;
            if (!started)
                _service.PeerSessionEnded(peer.Id);
            else if (peer.Enabled)
                _service.PeerSessionStarted(peer.Id, peer.TunnelAddress);
            return peer;
        }
    }

    /// <summary>Stops listening and applies what was already queued.</summary>
    public async ValueTask DisposeAsync()
    {
        _device.SessionEstablished -= OnEstablished;
        _device.SessionEnded -= OnEnded;
        _events.Writer.TryComplete();
        await _pump.ConfigureAwait(false);
    }
}
