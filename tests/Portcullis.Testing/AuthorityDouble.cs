using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Testing;

/// <summary>
/// The one stand-in for the policy layer (the forwarding service) behind a real port-mapping server — never the thing
/// under test. It keeps mappings per (client, protocol, internal port) bound to their nonce, hands out ports from 40000
/// up, gives the other protocol of a mapped internal port the same port when free (as our gateway does), and records
/// every call. Knobs for what tests need: switched off, a quota, a forced answer, a throwing policy, refusals, ports
/// held by others, lifetimes per protocol, and the two ways a gateway goes wrong (losing its state, its epoch going back).
/// <para>
/// Time: without a <see cref="TimeProvider"/> the epoch is whatever the test sets (1234). With one, the epoch runs on that
/// clock (from 1000 s), and a retransmission — the same request at the same virtual instant, sent because the client's
/// timer ran out on a loaded machine before the answer came — is answered as before and not recorded as a new call.
/// </para>
/// </summary>
public sealed class AuthorityDouble(TimeProvider? time = null) : IPortMappingAuthority
{
    public static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    private readonly Lock _gate = new();
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort), (ushort Port, byte[]? Nonce)> _mappings = [];
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort, IPAddress, ushort), ushort> _peers = [];
    private readonly List<MapRequest> _mapCalls = [];
    private readonly List<PeerMappingRequest> _peerCalls = [];
    private readonly List<(IPAddress Client, MappingProtocol Protocol)> _deleteAllCalls = [];
    private readonly List<string?> _deleteAllNonces = [];
    private DateTimeOffset _epochStart = time is null ? default : time.GetUtcNow() - TimeSpan.FromSeconds(1000);
    private uint _fixedEpoch = 1234;
    private ushort _nextPort = 40000;
    private (DateTimeOffset At, MapRequest Request, MapResult Result)? _last;

    /// <summary>On the clock when there is one (setting it then has no effect); else as set.</summary>
    public uint EpochSeconds
    {
        get
        {
            lock (_gate)
                return time is null ? _fixedEpoch : (uint)(time.GetUtcNow() - _epochStart).TotalSeconds;
        }
        set
        {
            lock (_gate)
                _fixedEpoch = value;
        }
    }

    /// <summary>False: every request is refused as not authorized (port forwarding off).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Mappings one client may hold.</summary>
    public int Quota { get; set; } = int.MaxValue;

    /// <summary>Set: every MAP and PEER is refused with it.</summary>
    public MapStatus? ForcedStatus { get; set; }

    /// <summary>The policy throws (with a message that must never reach a client).</summary>
    public bool Throws { get; set; }

    /// <summary>How many of the next map requests get <see cref="MapStatus.NoResources"/>.</summary>
    public int RefuseNext { get; set; }

    /// <summary>Granted lifetime per protocol (the requested one is cut to it).</summary>
    public TimeSpan TcpLifetime { get; set; } = TimeSpan.FromHours(2);

    public TimeSpan UdpLifetime { get; set; } = TimeSpan.FromHours(2);

    /// <summary>Both protocols' lifetime cap at once.</summary>
    public TimeSpan MaxLifetime
    {
        set => TcpLifetime = UdpLifetime = value;
    }

    /// <summary>External ports held by someone else, per protocol: never given, suggested or not.</summary>
    public HashSet<(MappingProtocol, ushort)> Taken { get; } = [];

    /// <summary>Runs at the start of every Map, outside the double's lock (to hold one request while others arrive).</summary>
    public Action<MapRequest>? BeforeMap { get; set; }

    /// <summary>Every MAP the policy was asked (retransmissions on a clock not counted), in order.</summary>
    public IReadOnlyList<MapRequest> MapCalls { get { lock (_gate) return [.. _mapCalls]; } }

    public IReadOnlyList<PeerMappingRequest> PeerCalls { get { lock (_gate) return [.. _peerCalls]; } }

    /// <summary>Every DeleteAll, in order.</summary>
    public IReadOnlyList<(IPAddress Client, MappingProtocol Protocol)> DeleteAllCalls { get { lock (_gate) return [.. _deleteAllCalls]; } }

    /// <summary>The nonce each DeleteAll carried (hex; null: none), in call order.</summary>
    public IReadOnlyList<string?> DeleteAllNonces { get { lock (_gate) return [.. _deleteAllNonces]; } }

    public int Count { get { lock (_gate) return _mappings.Count; } }

    /// <summary>What a restart without the database does: mappings gone, epoch from zero, other ports.</summary>
    public void LoseState()
    {
        lock (_gate)
        {
            _mappings.Clear();
            _peers.Clear();
            _epochStart = time?.GetUtcNow() ?? default;
            _fixedEpoch = 0;
            _nextPort = 41000;
        }
    }

    /// <summary>The epoch alone goes back (the mappings stay): only the epoch can tell the client.</summary>
    public void ResetEpochOnly()
    {
        lock (_gate)
        {
            _epochStart = time?.GetUtcNow() ?? default;
            _fixedEpoch = 0;
        }
    }

    public MapResult GetPublicAddress(IPAddress client)
    {
        if (Throws)
            throw new InvalidOperationException("secret policy detail");
        return Enabled ? new MapResult(MapStatus.Success, Public, 0, 0, TimeSpan.Zero) : MapResult.Failure(MapStatus.NotAuthorized);
    }

    public MapResult Map(MapRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        BeforeMap?.Invoke(request);
        lock (_gate)
        {
            var now = time?.GetUtcNow();
            if (now is not null && _last is { } last && last.At == now && SameExchange(last.Request, request))
                return last.Result;
            _mapCalls.Add(request);
            if (Throws)
                throw new InvalidOperationException("secret policy detail");
            var result = MapLocked(request);
            if (now is { } at)
                _last = (at, request, result);
            return result;
        }
    }

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null)
    {
        lock (_gate)
        {
            _deleteAllCalls.Add((client, protocol));
            _deleteAllNonces.Add(nonce is { } given ? Convert.ToHexString(given.Span) : null);
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
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            _peerCalls.Add(request);
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
                _peers[key] = port = NextFreeLocked(request.Protocol);
            return new MapResult(MapStatus.Success, Public, port, request.InternalPort, Cut(request.Protocol, request.Lifetime));
        }
    }

    private MapResult MapLocked(MapRequest request)
    {
        if (!Enabled)
            return MapResult.Failure(MapStatus.NotAuthorized);
        if (ForcedStatus is { } forced)
            return MapResult.Failure(forced);
        if (RefuseNext > 0)
        {
            RefuseNext--;
            return MapResult.Failure(MapStatus.NoResources);
        }
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
            var other = request.Protocol == MappingProtocol.Tcp ? MappingProtocol.Udp : MappingProtocol.Tcp;
            var paired = _mappings.TryGetValue((request.Client, other, request.InternalPort), out var pair) && FreeLocked(request.Protocol, pair.Port);
            var port = paired ? pair.Port : PeekFreeLocked(request.Protocol);
            if (request.PreferFailure && request.SuggestedExternalPort != port)
                return MapResult.Failure(MapStatus.CannotProvideExternal);
            if (!paired)
                _nextPort = (ushort)(port + 1);
            existing = (port, nonce);
            _mappings[key] = existing;
        }
        var internalPort = request.InternalPort == 0 ? existing.Port : request.InternalPort;
        return new MapResult(MapStatus.Success, Public, existing.Port, internalPort, Cut(request.Protocol, request.Lifetime));
    }

    private TimeSpan Cut(MappingProtocol protocol, TimeSpan asked)
    {
        var most = protocol == MappingProtocol.Tcp ? TcpLifetime : UdpLifetime;
        return asked < most ? asked : most;
    }

    private static bool SameExchange(MapRequest a, MapRequest b) =>
        a.Client.Equals(b.Client) && a.Protocol == b.Protocol && a.InternalPort == b.InternalPort && a.Lifetime == b.Lifetime
        && a.SuggestedExternalPort == b.SuggestedExternalPort && a.PreferFailure == b.PreferFailure
        && (a.Nonce is null ? b.Nonce is null : b.Nonce is not null && a.Nonce.Value.Span.SequenceEqual(b.Nonce.Value.Span));

    private bool FreeLocked(MappingProtocol protocol, ushort port) =>
        !Taken.Contains((protocol, port)) && !_mappings.Any(m => m.Key.Item2 == protocol && m.Value.Port == port)
        && !_peers.Any(p => p.Key.Item2 == protocol && p.Value == port);

    private ushort PeekFreeLocked(MappingProtocol protocol)
    {
        var port = _nextPort;
        while (!FreeLocked(protocol, port))
            port++;
        return port;
    }

    private ushort NextFreeLocked(MappingProtocol protocol)
    {
        var port = PeekFreeLocked(protocol);
        _nextPort = (ushort)(port + 1);
        return port;
    }
}
