using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Addressing;
using Portcullis.Gateway.Forwarding;
using Portcullis.WireGuard.Device;

namespace Portcullis.Gateway.Hosting;

/// <summary>
/// Carries the device's session events to the forwarding service. The device raises them on a pipeline thread that
/// must not wait (a session end means an nftables transaction and a conntrack flush), so events are queued and
/// applied in order on one task: public key → peer (address book) → peer id + tunnel address → service.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class SessionEvents : IAsyncDisposable
{
    private readonly Channel<(bool Started, PeerAddress Peer)> _events =
        Channel.CreateUnbounded<(bool, PeerAddress)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WireGuardDevice _device;
    private readonly TunnelAddressBook _book;
    private readonly IReadOnlyDictionary<string, string> _peerIds;
    private readonly ForwardingService _service;
    private readonly ILogger _logger;
    private readonly Task _pump;

    public SessionEvents(WireGuardDevice device, TunnelAddressBook book, IReadOnlyDictionary<string, string> peerIds,
        ForwardingService service, ILogger logger)
    {
        _device = device;
        _book = book;
        _peerIds = peerIds;
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

    private void OnEstablished(PeerSessionEvent e) => Enqueue(true, e);

    private void OnEnded(PeerSessionEvent e) => Enqueue(false, e);

    private void Enqueue(bool started, PeerSessionEvent e)
    {
        if (_book.FindByKey(e.PublicKey) is { } peer)
            _events.Writer.TryWrite((started, peer));
        else
            GatewayHostLog.UnknownPeer(_logger);
    }

    private async Task PumpAsync()
    {
        await foreach (var (started, peer) in _events.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                var id = _peerIds[peer.PublicKeyBase64];
                if (started)
                {
                    _service.PeerSessionStarted(id, peer.Address);
                    GatewayHostLog.SessionStarted(_logger, peer.Name, peer.Address);
                    SessionStartedHook?.Invoke(peer.Address);
                }
                else
                {
                    _service.PeerSessionEnded(id);
                    GatewayHostLog.SessionEnded(_logger, peer.Name, peer.Address);
                }
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                GatewayHostLog.SessionEventFailed(_logger, e);
            }
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
