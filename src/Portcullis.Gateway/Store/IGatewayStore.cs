using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Store;

/// <summary>
/// The gateway's persistent state: peers, static forwards, dedicated-address assignments and server policy.
/// SQLite (<see cref="Sqlite.SqliteGatewayStore"/>) for one gateway; a PostgreSQL implementation fills the same
/// contract for a fleet sharing one database, so:
/// - ids are opaque strings the store makes; callers never parse them;
/// - every change that must be atomic is one method (allocate an address and add the peer; apply the config file);
/// - uniqueness is the store's job: a duplicate throws <see cref="StoreConflictException"/> naming what clashed,
///   and nothing changes; something not found gives null or false, never an exception;
/// - a store that cannot be read or written throws <see cref="StoreException"/>, whose message names the store
///   but never holds a secret (the store holds none: public keys only).
/// Implementations are thread-safe.
/// </summary>
public interface IGatewayStore : IAsyncDisposable
{
    /// <summary>
    /// The gateway this store was opened for: dedicated addresses assigned through it are this gateway's. Empty for
    /// the one-box SQLite store and for tools (a store migration).
    /// </summary>
    string Gateway { get; }

    Task<IReadOnlyList<StoredPeer>> ListPeersAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Peers <paramref name="offset"/> to <paramref name="offset"/> + <paramref name="limit"/> − 1 in
    /// <see cref="ListPeersAsync"/>'s order, and how many there are, read together (one snapshot).
    /// </summary>
    Task<(IReadOnlyList<StoredPeer> Page, int Total)> ListPeersPageAsync(int offset, int limit, CancellationToken cancellationToken = default);

    Task<StoredPeer?> GetPeerAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The peer with this public key (base64, as <c>wg</c> prints it), or null.</summary>
    Task<StoredPeer?> FindPeerByPublicKeyAsync(string publicKey, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a peer, enabled. Without <see cref="NewPeer.TunnelAddress"/> the lowest free host address of
    /// <paramref name="pool"/> is allocated in the same transaction. Throws <see cref="StoreConflictException"/> for
    /// a name, key or address in use, or a full pool; <see cref="ArgumentException"/> for an address outside the pool.
    /// </summary>
    Task<StoredPeer> AddPeerAsync(NewPeer peer, TunnelAddressPool pool, CancellationToken cancellationToken = default);

    /// <summary>False when no peer has this id.</summary>
    Task<bool> SetPeerEnabledAsync(string id, bool enabled, CancellationToken cancellationToken = default);

    /// <summary>Removes the peer with its static forwards and dedicated addresses. False when no peer has this id.</summary>
    Task<bool> RemovePeerAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Every static forward, or one peer's when <paramref name="peerId"/> is given.</summary>
    Task<IReadOnlyList<StoredForward>> ListForwardsAsync(string? peerId = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Adds a static forward. Null when the peer does not exist; <see cref="StoreConflictException"/> when the
    /// (public address, protocol, external port) is taken, by anyone.
    /// </summary>
    Task<StoredForward?> AddForwardAsync(StoredForward forward, CancellationToken cancellationToken = default);

    /// <summary>False when no forward has this key.</summary>
    Task<bool> RemoveForwardAsync(ForwardKey key, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DedicatedAddress>> ListDedicatedAddressesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives <paramref name="address"/> to the peer (a peer may hold several). Null when the peer does not exist;
    /// <see cref="StoreConflictException"/> when another peer holds the address; assigning it again to its holder
    /// changes nothing.
    /// </summary>
    Task<DedicatedAddress?> AssignDedicatedAddressAsync(IPAddress address, string peerId, CancellationToken cancellationToken = default);

    /// <summary>False when nobody holds the address.</summary>
    Task<bool> ReleaseDedicatedAddressAsync(IPAddress address, CancellationToken cancellationToken = default);

    /// <summary>The stored overrides of the configured policy; every value null when none were ever set.</summary>
    Task<ServerPolicy> GetPolicyAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the stored overrides: a null value removes its override, so the configuration's value applies again.
    /// </summary>
    Task SetPolicyAsync(ServerPolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// One gateway's overrides, on top of the fleet's (<see cref="GetPolicyAsync"/>); every value null when none were
    /// set for it.
    /// </summary>
    Task<ServerPolicy> GetGatewayPolicyAsync(string gateway, CancellationToken cancellationToken = default);

    /// <summary>Replaces one gateway's overrides, as <see cref="SetPolicyAsync"/> does the fleet's.</summary>
    Task SetGatewayPolicyAsync(string gateway, ServerPolicy policy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the config file's <c>[[peer]]</c> entries (the file wins for what it names), in one transaction:
    /// reads the current state, computes the changes with <see cref="ConfigPeerPlanner.Plan"/> and writes them.
    /// Returns what changed (empty when the store already matched the file).
    /// </summary>
    Task<ConfigPeerChanges> ApplyConfigPeersAsync(
        IReadOnlyList<ConfiguredPeer> peers, TunnelAddressPool pool, CancellationToken cancellationToken = default);
}

/// <summary>A static forward's unique key: one owner per (public address, protocol, external port).</summary>
public readonly record struct ForwardKey(IPAddress PublicAddress, MappingProtocol Protocol, ushort ExternalPort)
{
    public override string ToString() => $"{PublicAddress} {(Protocol == MappingProtocol.Tcp ? "tcp" : "udp")} {ExternalPort}";
}
