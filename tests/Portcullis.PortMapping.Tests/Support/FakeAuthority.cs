using System.Net;

namespace Portcullis.PortMapping.Tests.Support;

/// <summary>
/// A small stand-in for the policy layer (the forwarding service), not for the server under test: it keeps
/// mappings per (client, protocol, internal port), hands out ports from 40000 up, honours a quota and a nonce, can be
/// switched off, and records every call so tests can see exactly what the front ends asked.
/// </summary>
internal sealed class FakeAuthority : IPortMappingAuthority
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort), (ushort Port, byte[]? Nonce)> _mappings = [];
    private ushort _nextPort = 40000;

    public static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    public uint EpochSeconds { get; set; } = 1234;
    public bool Enabled { get; set; } = true;
    public int Quota { get; set; } = 4;
    public MapStatus? ForcedStatus { get; set; }
    public bool Throws { get; set; }
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromHours(2);
    public List<MapRequest> MapCalls { get; } = [];
    public List<PeerMappingRequest> PeerCalls { get; } = [];
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort, IPAddress, ushort), ushort> _peers = [];

    /// <summary>Runs at the start of every Map, outside the fake's lock (to hold one request while others arrive).</summary>
    public Action<MapRequest>? BeforeMap { get; set; }
    public List<(IPAddress Client, MappingProtocol Protocol)> DeleteAllCalls { get; } = [];

    /// <summary>The nonce each DeleteAll call carried (hex; null: none), in call order.</summary>
    public List<string?> DeleteAllNonces { get; } = [];
    public int Count { get { lock (_gate) return _mappings.Count; } }

    public MapResult GetPublicAddress(IPAddress client)
    {
        if (Throws)
            throw new InvalidOperationException("secret policy detail");
        return Enabled ? new MapResult(MapStatus.Success, Public, 0, 0, TimeSpan.Zero) : MapResult.Failure(MapStatus.NotAuthorized);
    }

    public MapResult Map(MapRequest request)
    {
        BeforeMap?.Invoke(request);
        lock (_gate)
        {
            MapCalls.Add(request);
            if (Throws)
                throw new InvalidOperationException("secret policy detail");
            if (!Enabled)
                return MapResult.Failure(MapStatus.NotAuthorized);
            if (ForcedStatus is { } forced)
                return MapResult.Failure(forced);
            var key = (request.Client, request.Protocol, request.InternalPort);
            var exists = _mappings.TryGetValue(key, out var existing);
            var nonce = request.Nonce?.ToArray();
            if (exists && existing.Nonce is not null && (nonce is null || !existing.Nonce.AsSpan().SequenceEqual(nonce)))
                return MapResult.Failure(MapStatus.NotAuthorized);
            if (request.Lifetime == TimeSpan.Zero)
            {
                _mappings.Remove(key);
                return new MapResult(MapStatus.Success, Public, exists ? existing.Port : (ushort)0, request.InternalPort, TimeSpan.Zero);
            }
            if (!exists)
            {
                if (_mappings.Keys.Count(k => k.Item1.Equals(request.Client)) >= Quota)
                    return MapResult.Failure(MapStatus.QuotaExceeded);
                if (request.PreferFailure && request.SuggestedExternalPort != _nextPort)
                    return MapResult.Failure(MapStatus.CannotProvideExternal);
                existing = (_nextPort++, nonce);
                _mappings[key] = existing;
            }
            var lifetime = request.Lifetime > MaxLifetime ? MaxLifetime : request.Lifetime;
            return new MapResult(MapStatus.Success, Public, existing.Port, request.InternalPort, lifetime);
        }
    }

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null)
    {
        lock (_gate)
        {
            DeleteAllCalls.Add((client, protocol));
            DeleteAllNonces.Add(nonce is { } given ? Convert.ToHexString(given.Span) : null);
            if (!Enabled)
                return MapResult.Failure(MapStatus.NotAuthorized);
            foreach (var key in _mappings.Keys.Where(k => k.Item1.Equals(client) && k.Item2 == protocol).ToList())
                _mappings.Remove(key);
            return new MapResult(MapStatus.Success, null, 0, 0, TimeSpan.Zero);
        }
    }

    /// <summary>PEER: one port per flow from the same counter as MAP's; lifetime 0 deletes; no nonce check.</summary>
    public MapResult Peer(PeerMappingRequest request)
    {
        lock (_gate)
        {
            PeerCalls.Add(request);
            if (Throws)
                throw new InvalidOperationException("secret policy detail");
            if (ForcedStatus is { } forced)
                return MapResult.Failure(forced);
            var key = (request.Client, request.Protocol, request.InternalPort, request.RemoteAddress, request.RemotePort);
            if (request.Lifetime == TimeSpan.Zero)
            {
                _peers.Remove(key);
                return new MapResult(MapStatus.Success, Public, 0, request.InternalPort, TimeSpan.Zero);
            }
            if (!_peers.TryGetValue(key, out var port))
                _peers[key] = port = _nextPort++;
            var lifetime = request.Lifetime > MaxLifetime ? MaxLifetime : request.Lifetime;
            return new MapResult(MapStatus.Success, Public, port, request.InternalPort, lifetime);
        }
    }
}
