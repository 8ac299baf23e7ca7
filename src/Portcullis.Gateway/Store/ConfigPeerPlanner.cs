using System.Net;

namespace Portcullis.Gateway.Store;

/// <summary>
/// "The file wins for what it names", as a pure function from (file, store snapshot) to the writes:
/// 1. Each file peer is matched to a stored peer by public key, else by name (a key rotated in the file); the
///    match takes the file's name and key, a peer matched by nothing is added, enabled.
/// 2. Tunnel addresses: an address the file pins goes to its peer, even when another peer holds it; that peer
///    moves to the lowest free address. A peer the file names without an address keeps its stored one while it
///    is still in the pool. New peers without a pinned address get the lowest free ones, in file order.
/// 3. A dedicated address or static forward the file names goes to its peer, whoever held it.
/// Anything the file does not name is left as it is: peers not in the file, a peer's enabled flag, forwards and
/// dedicated addresses added through the admin API. Taking a peer or a forward out of the file therefore does
/// not remove it from the store; the admin API does.
/// </summary>
public static class ConfigPeerPlanner
{
    /// <summary>
    /// The changes that make <paramref name="current"/> match <paramref name="file"/>; empty when it does.
    /// <paramref name="newId"/> names added peers. Throws <see cref="ArgumentException"/> for a file that
    /// contradicts itself (the config loader rejects those first) and <see cref="StoreConflictException"/> when
    /// the pool runs out of addresses.
    /// </summary>
    public static ConfigPeerChanges Plan(
        IReadOnlyList<ConfiguredPeer> file, StoreSnapshot current, TunnelAddressPool pool, DateTimeOffset now, Func<string> newId)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(newId);
        CheckFile(file, pool);

        var matches = Match(file, current.Peers);
        var pinned = new Dictionary<IPAddress, int>();
        for (var i = 0; i < file.Count; i++)
        {
            if (file[i].TunnelAddress is { } address)
                pinned[address] = i;
        }

        // Stored peers keep their address unless the file pins it for someone else (or pins another for them).
        var taken = new HashSet<IPAddress>(pinned.Keys) { pool.Gateway };
        var fileIndexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < file.Count; i++)
        {
            if (matches[i] is { } match)
                fileIndexOf[match.Id] = i;
        }
        var moved = new List<StoredPeer>();
        var finalAddress = new Dictionary<string, IPAddress>(StringComparer.Ordinal);
        foreach (var peer in current.Peers)
        {
            var named = fileIndexOf.TryGetValue(peer.Id, out var index);
            if (named && file[index].TunnelAddress is { } pin)
                finalAddress[peer.Id] = pin;
            else if (!pinned.ContainsKey(peer.TunnelAddress) && (!named || pool.CanAssign(peer.TunnelAddress)) && taken.Add(peer.TunnelAddress))
                finalAddress[peer.Id] = peer.TunnelAddress;
            else
                moved.Add(peer);
        }
        foreach (var peer in moved)
            finalAddress[peer.Id] = Allocate(pool, taken, peer.Name);

        var added = new List<StoredPeer>();
        var updated = new List<StoredPeer>();
        var idOf = new string[file.Count];
        for (var i = 0; i < file.Count; i++)
        {
            var wanted = file[i];
            if (matches[i] is { } match)
            {
                idOf[i] = match.Id;
                var next = match with { Name = wanted.Name, PublicKey = wanted.PublicKey, TunnelAddress = finalAddress[match.Id] };
                if (next != match)
                    updated.Add(next);
                continue;
            }
            var peer = new StoredPeer
            {
                Id = newId(),
                Name = wanted.Name,
                PublicKey = wanted.PublicKey,
                TunnelAddress = wanted.TunnelAddress ?? Allocate(pool, taken, wanted.Name),
                Enabled = true,
                CreatedUtc = now,
            };
            idOf[i] = peer.Id;
            added.Add(peer);
        }
        foreach (var peer in moved)
        {
            if (!fileIndexOf.ContainsKey(peer.Id))
                updated.Add(peer with { TunnelAddress = finalAddress[peer.Id] });
        }

        return new ConfigPeerChanges
        {
            Added = added,
            Updated = updated,
            DedicatedAddresses = DedicatedChanges(file, idOf, current.DedicatedAddresses),
            Forwards = ForwardChanges(file, idOf, current.Forwards),
        };
    }

    // By key first for every file peer, then by name for the rest, so a rename in the file and a key rotation in
    // the file both find their stored peer, and a stored peer is never matched twice.
    private static StoredPeer?[] Match(IReadOnlyList<ConfiguredPeer> file, IReadOnlyList<StoredPeer> stored)
    {
        var byKey = new Dictionary<string, StoredPeer>(StringComparer.Ordinal);
        var byName = new Dictionary<string, StoredPeer>(StringComparer.Ordinal);
        foreach (var peer in stored)
        {
            byKey[peer.PublicKey] = peer;
            byName[peer.Name] = peer;
        }
        var matches = new StoredPeer?[file.Count];
        var used = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < file.Count; i++)
        {
            if (byKey.TryGetValue(file[i].PublicKey, out var match))
            {
                matches[i] = match;
                used.Add(match.Id);
            }
        }
        for (var i = 0; i < file.Count; i++)
        {
            if (matches[i] is null && byName.TryGetValue(file[i].Name, out var match) && used.Add(match.Id))
                matches[i] = match;
        }
        return matches;
    }

    private static List<DedicatedAddress> DedicatedChanges(
        IReadOnlyList<ConfiguredPeer> file, string[] idOf, IReadOnlyList<DedicatedAddress> current)
    {
        var holder = new Dictionary<IPAddress, string>();
        foreach (var assignment in current)
            holder[assignment.Address] = assignment.PeerId;
        var changes = new List<DedicatedAddress>();
        for (var i = 0; i < file.Count; i++)
        {
            foreach (var address in (IPAddress?[])[file[i].DedicatedAddress, file[i].DedicatedAddress6])
            {
                if (address is not null && (!holder.TryGetValue(address, out var peerId) || peerId != idOf[i]))
                    changes.Add(new DedicatedAddress(address, idOf[i]));
            }
        }
        return changes;
    }

    private static List<StoredForward> ForwardChanges(IReadOnlyList<ConfiguredPeer> file, string[] idOf, IReadOnlyList<StoredForward> current)
    {
        var byKey = new Dictionary<ForwardKey, StoredForward>();
        foreach (var forward in current)
            byKey[forward.Key] = forward;
        var changes = new List<StoredForward>();
        for (var i = 0; i < file.Count; i++)
        {
            foreach (var wanted in file[i].Forwards)
            {
                var next = new StoredForward
                {
                    PublicAddress = wanted.PublicAddress,
                    Protocol = wanted.Protocol,
                    ExternalPort = wanted.ExternalPort,
                    PeerId = idOf[i],
                    InternalPort = wanted.InternalPort,
                };
                if (!byKey.TryGetValue(next.Key, out var stored) || stored != next)
                    changes.Add(next);
            }
        }
        return changes;
    }

    private static IPAddress Allocate(TunnelAddressPool pool, HashSet<IPAddress> taken, string peerName)
    {
        var address = pool.FirstFree(taken) ?? throw pool.Exhausted(peerName);
        taken.Add(address);
        return address;
    }

    private static void CheckFile(IReadOnlyList<ConfiguredPeer> file, TunnelAddressPool pool)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var addresses = new HashSet<IPAddress>();
        var dedicated = new HashSet<IPAddress>();
        var forwards = new HashSet<ForwardKey>();
        foreach (var peer in file)
        {
            if (!names.Add(peer.Name))
                throw new ArgumentException($"The config names peer '{peer.Name}' twice.", nameof(file));
            if (!keys.Add(peer.PublicKey))
                throw new ArgumentException($"The config gives peer '{peer.Name}' a public key another peer has.", nameof(file));
            if (peer.TunnelAddress is { } address && (!pool.CanAssign(address) || !addresses.Add(address)))
                throw new ArgumentException($"Peer '{peer.Name}': tunnel address {address} is used twice or is not a host address of {pool.Prefix} other than the gateway's.", nameof(file));
            if (peer.DedicatedAddress is { } own && !dedicated.Add(own))
                throw new ArgumentException($"Peer '{peer.Name}': dedicated address {own} is given twice.", nameof(file));
            if (peer.DedicatedAddress6 is { } own6 && !dedicated.Add(own6))
                throw new ArgumentException($"Peer '{peer.Name}': dedicated address {own6} is given twice.", nameof(file));
            foreach (var forward in peer.Forwards)
            {
                if (forward.ExternalPort == 0 || forward.InternalPort == 0 || !forwards.Add(forward.Key))
                    throw new ArgumentException($"Peer '{peer.Name}': static forward {forward.Key} is used twice or has port 0.", nameof(file));
            }
        }
    }
}
