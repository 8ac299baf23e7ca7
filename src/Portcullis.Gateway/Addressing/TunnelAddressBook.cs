using System.Net;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Addressing;

/// <summary>
/// Every configured peer with its tunnel address, decided once at start (<see cref="AddressAllocator"/>) and
/// remembered in the <see cref="AddressStateFile"/> so a restart keeps each address. Lookups both ways: by public
/// key (session events) and by tunnel address (port requests). Immutable after <see cref="Open"/>; thread-safe.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TunnelAddressBook
{
    private readonly Dictionary<string, PeerAddress> _byKey;
    private readonly Dictionary<IPAddress, PeerAddress> _byAddress;

    public TunnelAddressBook(IReadOnlyList<PeerAddress> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        Peers = peers;
        _byKey = peers.ToDictionary(p => p.PublicKeyBase64, StringComparer.Ordinal);
        _byAddress = peers.ToDictionary(p => p.Address);
    }

    public IReadOnlyList<PeerAddress> Peers { get; }

    /// <summary>Assigns addresses to the config's peers and saves the state file when an allocation changed.</summary>
    public static TunnelAddressBook Open(GatewayConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var statePath = AddressStateFile.PathFor(config.Store);
        var remembered = AddressStateFile.Load(statePath);
        var requests = config.Peers.Select(p => new AddressRequest(p.Name, p.PublicKey, p.Address)).ToList();
        IReadOnlyList<PeerAddress> peers;
        try
        {
            peers = AddressAllocator.Assign(config.Tunnel.Prefix, config.Tunnel.Address, requests, remembered);
        }
        catch (AddressExhaustedException e)
        {
            throw new GatewayConfigException($"{config.SourcePath}: {e.Message}", e);
        }

        var allocated = peers.Where(p => !p.Configured).ToList();
        var unchanged = allocated.Count == remembered.Count
            && allocated.All(p => remembered.TryGetValue(p.PublicKeyBase64, out var a) && a.Equals(p.Address));
        if (!unchanged)
            AddressStateFile.Save(statePath, peers);
        return new TunnelAddressBook(peers);
    }

    public PeerAddress? FindByKey(ReadOnlySpan<byte> publicKey) =>
        _byKey.GetValueOrDefault(Convert.ToBase64String(publicKey));

    public PeerAddress? FindByAddress(IPAddress address) => _byAddress.GetValueOrDefault(address);
}
