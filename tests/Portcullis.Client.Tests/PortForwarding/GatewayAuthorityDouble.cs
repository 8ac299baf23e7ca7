using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Client.Tests.PortForwarding;

/// <summary>
/// A small stand-in for the gateway's policy layer behind the real <c>PortMappingServer</c>: mappings per
/// (client, protocol, internal port) bound to their nonce, ports from 40000 up, TCP and UDP of one internal port paired, an epoch that runs on the test's
/// clock, and the two ways a gateway goes wrong — losing its state (epoch back to 0, mappings gone, ports from
/// 41000) and refusing the next requests.
/// </summary>
internal sealed class GatewayAuthorityDouble(TimeProvider time) : IPortMappingAuthority
{
    public static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");

    private readonly Lock _gate = new();
    private readonly Dictionary<(IPAddress, MappingProtocol, ushort), (ushort Port, byte[]? Nonce)> _mappings = [];
    private DateTimeOffset _epochStart = time.GetUtcNow() - TimeSpan.FromSeconds(1000);
    private ushort _nextPort = 40000;

    public uint EpochSeconds { get { lock (_gate) return (uint)(time.GetUtcNow() - _epochStart).TotalSeconds; } }

    /// <summary>Granted lifetime per protocol (the requested one is cut to it).</summary>
    public TimeSpan TcpLifetime { get; set; } = TimeSpan.FromSeconds(600);
    public TimeSpan UdpLifetime { get; set; } = TimeSpan.FromSeconds(600);

    /// <summary>External ports held by someone else, per protocol: never given, suggested or not.</summary>
    public HashSet<(MappingProtocol, ushort)> Taken { get; } = [];

    /// <summary>How many of the next map requests get <see cref="MapStatus.NoResources"/>.</summary>
    public int RefuseNext { get; set; }

    public List<MapRequest> Calls { get { lock (_gate) return [.. _calls]; } }
    private readonly List<MapRequest> _calls = [];

    public int Count { get { lock (_gate) return _mappings.Count; } }

    /// <summary>What a restart without the database does: mappings gone, epoch from zero, other ports.</summary>
    public void LoseState()
    {
        lock (_gate)
        {
            _mappings.Clear();
            _epochStart = time.GetUtcNow();
            _nextPort = 41000;
        }
    }

    /// <summary>The epoch alone goes back (the mappings stay): only the epoch can tell the client.</summary>
    public void ResetEpochOnly()
    {
        lock (_gate)
            _epochStart = time.GetUtcNow();
    }

    public MapResult GetPublicAddress(IPAddress client) => new(MapStatus.Success, Public, 0, 0, TimeSpan.Zero);

    public MapResult Map(MapRequest request)
    {
        lock (_gate)
        {
            // A retransmission (the client's timer ran out on a loaded machine before the answer came) is the same
            // request at the same virtual instant: a real gateway answers it as before, and it is not a new exchange
            // for the tests that count them.
            var now = time.GetUtcNow();
            if (_last is { } last && last.At == now && SameExchange(last.Request, request))
                return last.Result;
            _calls.Add(request);
            var result = MapLocked(request);
            _last = (now, request, result);
            return result;
        }
    }

    private (DateTimeOffset At, MapRequest Request, MapResult Result)? _last;

    private static bool SameExchange(MapRequest a, MapRequest b) =>
        a.Client.Equals(b.Client) && a.Protocol == b.Protocol && a.InternalPort == b.InternalPort && a.Lifetime == b.Lifetime
        && a.SuggestedExternalPort == b.SuggestedExternalPort && a.PreferFailure == b.PreferFailure
        && (a.Nonce is null ? b.Nonce is null : b.Nonce is not null && a.Nonce.Value.Span.SequenceEqual(b.Nonce.Value.Span));

    private MapResult MapLocked(MapRequest request)
    {
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
            return new MapResult(MapStatus.Success, Public, 0, request.InternalPort, TimeSpan.Zero);
        }
        if (!exists)
        {
            var other = request.Protocol == MappingProtocol.Tcp ? MappingProtocol.Udp : MappingProtocol.Tcp;
            // As our gateway does: the other protocol of a mapped internal port gets that mapping's port when free.
            existing = (_mappings.TryGetValue((request.Client, other, request.InternalPort), out var pair) && FreeLocked(request.Protocol, pair.Port)
                ? pair.Port
                : NextFreeLocked(request.Protocol), nonce);
            _mappings[key] = existing;
        }
        var most = request.Protocol == MappingProtocol.Tcp ? TcpLifetime : UdpLifetime;
        var internalPort = request.InternalPort == 0 ? existing.Port : request.InternalPort;
        return new MapResult(MapStatus.Success, Public, existing.Port, internalPort, request.Lifetime < most ? request.Lifetime : most);
    }

    private bool FreeLocked(MappingProtocol protocol, ushort port) =>
        !Taken.Contains((protocol, port)) && !_mappings.Any(m => m.Key.Item2 == protocol && m.Value.Port == port);

    private ushort NextFreeLocked(MappingProtocol protocol)
    {
        while (!FreeLocked(protocol, _nextPort))
            _nextPort++;
        return _nextPort++;
    }

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null)
    {
        lock (_gate)
        {
            foreach (var key in _mappings.Keys.Where(k => k.Item1.Equals(client) && k.Item2 == protocol).ToList())
                _mappings.Remove(key);
            return new MapResult(MapStatus.Success, null, 0, 0, TimeSpan.Zero);
        }
    }

    /// <summary>The client asks for no PEER mapping; a call here would be a bug in the code under test.</summary>
    public MapResult Peer(PeerMappingRequest request) => throw new InvalidOperationException("the client sent PCP PEER");
}
