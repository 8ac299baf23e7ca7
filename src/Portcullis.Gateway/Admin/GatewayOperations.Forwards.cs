using System.Net;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Admin;

// Static forwards: the store holds them (and refuses a key anyone holds: 409), the forwarding service puts them
// in the kernel while their peer is connected. A forward listens on a shared public address or on its own peer's
// dedicated address, never on another peer's. In a fleet, a forward that names no address (of a peer without a
// dedicated address here) is fleet-wide: stored as 0.0.0.0, live on whichever gateway the peer is connected to.
public sealed partial class GatewayOperations
{
    public async Task<IReadOnlyList<ForwardView>> ListForwardsAsync(CancellationToken cancellationToken = default)
    {
        var forwards = await _store.ListForwardsAsync(null, cancellationToken).ConfigureAwait(false);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var peer in await _store.ListPeersAsync(cancellationToken).ConfigureAwait(false))
            names[peer.Id] = peer.Name;
        var live = LiveStaticKeys();
        var views = new List<ForwardView>(forwards.Count);
        foreach (var forward in forwards)
            views.Add(View(forward, names.GetValueOrDefault(forward.PeerId, ""), IsLive(live, forward)));
        return views;
    }

    public async Task<IReadOnlyList<ForwardView>?> AddForwardAsync(ForwardRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.ExternalPort == 0)
            throw new AdminRequestException("The external port must be 1–65535.");
        if (request.InternalPort == 0)
            throw new AdminRequestException("The internal port must be 1–65535.");
        if (!Enum.IsDefined(request.Protocol))
            throw new AdminRequestException("The protocol must be tcp, udp or both.");
        // The kernel keeps the gateway's own listening ports its own on every local address (DESIGN §3): nothing would
        // ever reach a forward on the WireGuard port.
        if (request.ExternalPort == _identity.ListenPort && request.Protocol is ForwardProtocol.Udp or ForwardProtocol.Both)
            throw new AdminRequestException($"UDP {request.ExternalPort} is the gateway's own WireGuard port: nothing would ever reach a forward there.");
        ThrowIfStoreAway();

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var peer = await ResolveAsync(request.Peer, cancellationToken).ConfigureAwait(false);
            if (peer is null)
                return null;
            var own = (await DedicatedByPeerAsync(cancellationToken).ConfigureAwait(false)).GetValueOrDefault(peer.Id);
            var address = await PublicAddressForAsync(request.PublicAddress, peer, own, cancellationToken).ConfigureAwait(false);
            if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && _identity.Ipv6 is { Routed: true }
                && (request.InternalPort ?? request.ExternalPort) != request.ExternalPort)
                throw new AdminRequestException($"With a routed IPv6 prefix nothing is translated: a forward on {address} keeps its port (internal port {request.ExternalPort}).");
            var protocols = request.Protocol.Mappings();

            var stored = new List<StoredForward>(protocols.Count);
            try
            {
                foreach (var protocol in protocols)
                {
                    var forward = new StoredForward
                    {
                        PublicAddress = address,
                        Protocol = protocol,
                        ExternalPort = request.ExternalPort,
                        PeerId = peer.Id,
                        InternalPort = request.InternalPort ?? request.ExternalPort,
                    };
                    if (await _store.AddForwardAsync(forward, cancellationToken).ConfigureAwait(false) is null)
                        return null; // the peer went away between resolving and storing
                    stored.Add(forward);
                }
            }
            catch
            {
                // "both" is all or nothing: the TCP half stays only if the UDP half was stored too.
                foreach (var forward in stored)
                    await _store.RemoveForwardAsync(forward.Key, CancellationToken.None).ConfigureAwait(false);
                throw;
            }

            try
            {
                var ownDedicated = new HashSet<IPAddress>(new[] { own.V4, own.V6 }.OfType<IPAddress>());
                foreach (var forward in stored)
                    _service.AddStaticForward(_scope.Rule(forward, ownDedicated) ?? throw new ArgumentException($"{forward.PublicAddress} is not this gateway's."));
            }
            catch (Exception e) when (e is ForwardingTableException or ArgumentException)
            {
                // The kernel refused (or the rule is one the service cannot hold): the change did not happen.
                foreach (var forward in stored)
                {
                    try
                    {
                        _service.RemoveStaticForward(Served(forward.PublicAddress), forward.Protocol, forward.ExternalPort);
                    }
                    catch (ForwardingTableException)
                    {
                        // A half that went live and now cannot leave the kernel either: it ends with its peer's
                        // session, and a restart does not bring it back (the store no longer holds it). The caller
                        // hears about the first failure.
                    }
                    await _store.RemoveForwardAsync(forward.Key, CancellationToken.None).ConfigureAwait(false);
                }
                throw;
            }
            var live = LiveStaticKeys();
            var views = new List<ForwardView>(stored.Count);
            foreach (var forward in stored)
                views.Add(View(forward, peer.Name, IsLive(live, forward)));
            GatewayOperationsLog.ForwardsAdded(_logger, peer.Name, stored.Count);
            return views;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default)
    {
        if (key.PublicAddress is null)
            throw new AdminRequestException("A forward is named by its public address, protocol and external port.");
        var plain = Plain(key.PublicAddress);
        var normalized = key with { PublicAddress = plain };
        ThrowIfStoreAway();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!await _store.RemoveForwardAsync(normalized, cancellationToken).ConfigureAwait(false))
                return false;
            // A fleet-wide forward's rule here sits on the first shared address; another gateway's pinned one is not here.
            _service.RemoveStaticForward(Served(plain), key.Protocol, key.ExternalPort);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    // Where the service holds a forward of this public address: a fleet-wide one on the first shared address.
    private IPAddress Served(IPAddress publicAddress) => publicAddress.Equals(StoredForward.AnyGateway) ? _scope.DefaultAddress : publicAddress;

    private bool IsLive(HashSet<ForwardKey> live, StoredForward forward) =>
        live.Contains(forward.Key with { PublicAddress = Served(forward.PublicAddress) });

    private async Task<IPAddress> PublicAddressForAsync(IPAddress? asked, StoredPeer peer, PeerDedicated dedicated, CancellationToken cancellationToken)
    {
        var own = dedicated.V4;
        if (asked is null)
            return own ?? (_scope.Gateway.Length > 0 ? StoredForward.AnyGateway : _identity.PublicAddresses[0]);
        var plain = Plain(asked);
        if (plain.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            return PublicAddress6For(plain, peer, dedicated.V6);
        if (plain.Equals(StoredForward.AnyGateway) && _scope.Gateway.Length > 0)
            return own is null ? plain : throw new AdminRequestException("A peer with a dedicated address on this gateway has its forwards there, not fleet-wide.");
        foreach (var shared in _identity.PublicAddresses)
        {
            if (shared.Equals(plain))
                return plain;
        }
        foreach (var assignment in await _store.ListDedicatedAddressesAsync(cancellationToken).ConfigureAwait(false))
        {
            if (assignment.Address.Equals(plain))
            {
                return assignment.PeerId == peer.Id
                    ? plain
                    : throw new AdminRequestException($"Public address {plain} is another peer's dedicated address.");
            }
        }
        throw new AdminRequestException($"Public address {plain} is neither a shared address of this gateway nor the peer's dedicated address.");
    }

    // An IPv6 forward is pinned to this gateway: on one of its NAT66 addresses, or routed on the peer's own /128.
    private IPAddress PublicAddress6For(IPAddress asked, StoredPeer peer, IPAddress? dedicated6)
    {
        if (_identity.Ipv6 is not { } ipv6)
            throw new AdminRequestException($"Public address {asked} is IPv6, and this gateway carries no IPv6 in its tunnel.");
        if (!ipv6.Routed)
        {
            return _identity.PublicAddresses6.Contains(asked) || asked.Equals(dedicated6)
                ? asked
                : throw new AdminRequestException($"Public address {asked} is not one of this gateway's public IPv6 addresses, nor the peer's dedicated IPv6 address.");
        }
        var own = ipv6.Ipv4Prefix.Contains(peer.TunnelAddress) ? ipv6.Twin(peer.TunnelAddress) : null;
        return asked.Equals(own)
            ? asked
            : throw new AdminRequestException($"With a routed IPv6 prefix a forward is on the peer's own address, {own}, not {asked}.");
    }

    private HashSet<ForwardKey> LiveStaticKeys()
    {
        var live = new HashSet<ForwardKey>();
        foreach (var state in _service.StaticForwards)
        {
            if (state.Live)
                live.Add(new ForwardKey(state.Rule.PublicAddress, state.Rule.Protocol, state.Rule.ExternalPort));
        }
        return live;
    }

    private static ForwardView View(StoredForward forward, string peerName, bool live) =>
        new(forward.PublicAddress, forward.Protocol, forward.ExternalPort, forward.PeerId, peerName, forward.InternalPort, live);
}
