using System.Net;
using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Admin;

/// <summary>
/// An in-memory <see cref="IGatewayOperations"/> that keeps the contract's rules (unique names, keys, addresses and
/// forward keys → <see cref="StoreConflictException"/>; not found → null/false), so the HTTP layer is what is tested.
/// Counts the changes that reached it, so a test can show bad data never did.
/// </summary>
internal sealed class GatewayOperationsDouble : IGatewayOperations
{
    private readonly Lock _gate = new();
    private readonly List<PeerView> _peers = [];
    private readonly List<ForwardView> _forwards = [];
    private readonly List<ActiveMapping> _mappings = [];
    private ServerPolicy _overrides = new();
    private int _nextId = 1;
    private int _nextAddress = 2;

    public static readonly IPAddress SharedAddress = IPAddress.Parse("198.51.100.10");

    public int Changes { get; private set; }

    /// <summary>Thrown by the next AddForwardAsync, as the real operations throw what the kernel or the store refused.</summary>
    public Exception? ForwardFailure { get; set; }

    public PeerRequest? LastPeerRequest { get; private set; }

    public ForwardRequest? LastForwardRequest { get; private set; }

    public void AddMapping(ActiveMapping mapping)
    {
        lock (_gate)
            _mappings.Add(mapping);
    }

    public Task<IReadOnlyList<PeerView>> ListPeersAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<PeerView>>([.. _peers]);
    }

    public Task<(IReadOnlyList<PeerView> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<(IReadOnlyList<PeerView>, int)>(([.. _peers.Skip(offset).Take(limit)], _peers.Count));
    }

    public Task<PeerView?> GetPeerAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(Find(idOrName));
    }

    public Task<AddedPeer> AddPeerAsync(PeerRequest request, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            LastPeerRequest = request;
            if (_peers.Exists(p => p.Name == request.Name))
                throw new StoreConflictException(StoreConflict.PeerName, request.Name, $"A peer named {request.Name} exists.");
            if (request.PublicKey is { } key && _peers.Exists(p => p.PublicKey == key))
                throw new StoreConflictException(StoreConflict.PeerPublicKey, key, "Another peer has this public key.");
            var address = request.TunnelAddress ?? IPAddress.Parse($"10.99.0.{_nextAddress++}");
            if (_peers.Exists(p => p.TunnelAddress.Equals(address)))
                throw new StoreConflictException(StoreConflict.TunnelAddress, address.ToString(), $"{address} is taken.");
            var generated = request.PublicKey is null;
            var peer = new PeerView
            {
                Id = $"p{_nextId++}",
                Name = request.Name,
                PublicKey = request.PublicKey ?? Convert.ToBase64String(new byte[32]),
                TunnelAddress = address,
                DedicatedAddress = request.DedicatedAddress,
                Enabled = true,
                CreatedUtc = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero),
                Connected = false,
            };
            _peers.Add(peer);
            var config = $"[Interface]\n{(generated ? "PrivateKey = generated\n" : "")}Address = {address}/16\n\n[Peer]\nPublicKey = gateway\n";
            return Task.FromResult(new AddedPeer(peer, config));
        }
    }

    public Task<bool> RemovePeerAsync(string idOrName, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            var peer = Find(idOrName);
            if (peer is null)
                return Task.FromResult(false);
            _peers.Remove(peer);
            _forwards.RemoveAll(f => f.PeerId == peer.Id);
            _mappings.RemoveAll(m => m.PeerId == peer.Id);
            return Task.FromResult(true);
        }
    }

    public Task<bool> SetPeerEnabledAsync(string idOrName, bool enabled, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            var peer = Find(idOrName);
            if (peer is null)
                return Task.FromResult(false);
            _peers[_peers.IndexOf(peer)] = peer with { Enabled = enabled };
            return Task.FromResult(true);
        }
    }

    public Task<IReadOnlyList<ForwardView>> ListForwardsAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult<IReadOnlyList<ForwardView>>([.. _forwards]);
    }

    public Task<IReadOnlyList<ForwardView>?> AddForwardAsync(ForwardRequest request, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            LastForwardRequest = request;
            if (ForwardFailure is { } failure)
                throw failure;
            var peer = Find(request.Peer);
            if (peer is null)
                return Task.FromResult<IReadOnlyList<ForwardView>?>(null);
            var address = request.PublicAddress ?? peer.DedicatedAddress ?? SharedAddress;
            var protocols = request.Protocol.Mappings();
            var added = new List<ForwardView>();
            foreach (var protocol in protocols)
            {
                if (_forwards.Exists(f => f.PublicAddress.Equals(address) && f.Protocol == protocol && f.ExternalPort == request.ExternalPort))
                    throw new StoreConflictException(StoreConflict.StaticForward, $"{address} {protocol} {request.ExternalPort}", "That forward exists.");
                added.Add(new ForwardView(address, protocol, request.ExternalPort, peer.Id, peer.Name,
                    request.InternalPort ?? request.ExternalPort, peer.Connected));
            }
            _forwards.AddRange(added);
            return Task.FromResult<IReadOnlyList<ForwardView>?>(added);
        }
    }

    public Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            var removed = _forwards.RemoveAll(f => f.PublicAddress.Equals(key.PublicAddress) && f.Protocol == key.Protocol && f.ExternalPort == key.ExternalPort);
            return Task.FromResult(removed > 0);
        }
    }

    public IReadOnlyList<ActiveMapping> ListMappings()
    {
        lock (_gate)
            return [.. _mappings];
    }

    /// <summary>The audit trail's records; null = auditing off (the refusal the real operations give).</summary>
    public List<AuditRecord>? Audit { get; set; }

    public Task<IReadOnlyList<AuditRecord>> FindHoldersAsync(
        IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        if (Audit is null)
            throw new AuditUnavailableException("Auditing is off on this gateway.");
        return Task.FromResult<IReadOnlyList<AuditRecord>>(Audit
            .Where(r => r.PublicAddress.Equals(publicAddress) && r.PublicPort == publicPort && r.StartedUtc <= at && (r.EndedUtc is null || r.EndedUtc > at))
            .ToList());
    }

    public bool RevokeMapping(IPAddress publicAddress, MappingProtocol protocol, ushort publicPort)
    {
        lock (_gate)
        {
            Changes++;
            return _mappings.RemoveAll(m => m.PublicAddress.Equals(publicAddress) && m.Protocol == protocol && m.PublicPort == publicPort) > 0;
        }
    }

    public Task<PolicyView> GetPolicyAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
            return Task.FromResult(new PolicyView(_overrides.ApplyTo(new ForwardingPolicy()), _overrides));
    }

    public Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Changes++;
            _overrides = policyOverrides;
            return Task.FromResult(new PolicyView(_overrides.ApplyTo(new ForwardingPolicy()), _overrides));
        }
    }

    // One box: no per-gateway layer, no fleet.
    public string? GatewayName => null;

    public string? LastKnownOnly { get; set; }

    public Task<PolicyView> GetPolicyAsync(string? gateway, CancellationToken cancellationToken = default) =>
        gateway is null ? GetPolicyAsync(cancellationToken) : throw new AdminRequestException("This gateway is not part of a fleet.");

    public Task<PolicyView> SetPolicyAsync(ServerPolicy policyOverrides, string? gateway, CancellationToken cancellationToken = default) =>
        gateway is null ? SetPolicyAsync(policyOverrides, cancellationToken) : throw new AdminRequestException("This gateway is not part of a fleet.");

    public Task<FleetView> GetFleetAsync(CancellationToken cancellationToken = default) => Task.FromResult(new FleetView([], []));

    public GatewayStatus GetStatus()
    {
        lock (_gate)
        {
            return new GatewayStatus
            {
                Interface = "pc0",
                PublicKey = Convert.ToBase64String(new byte[32]),
                ListenPort = 51820,
                PublicAddresses = [SharedAddress],
                Peers = _peers.Count,
                ConnectedPeers = _peers.FindAll(p => p.Connected).Count,
                DynamicMappings = _mappings.Count,
                LiveStaticForwards = _forwards.FindAll(f => f.Live).Count,
                EpochSeconds = 42,
                StartedUtc = new DateTimeOffset(2026, 1, 2, 3, 0, 0, TimeSpan.Zero),
                Version = "test",
            };
        }
    }

    private PeerView? Find(string idOrName) => _peers.Find(p => p.Id == idOrName || p.Name == idOrName);
}
