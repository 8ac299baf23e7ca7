using System.Net;
using Portcullis.PortMapping;

namespace Portcullis.Fuzz.Targets.PortMapping;

/// <summary>
/// The policy layer's seat, taken by a fixed rule so the front ends (the code under test) see every answer: a map of
/// internal port P is granted on port P xor 0x5a5a (forced into 1024–65535) for the requested lifetime clamped to
/// 120–3600 s, unless P's low bits pick a refusal; deletes succeed. It remembers the last call for the checks.
/// </summary>
internal sealed class ScriptedAuthority : IPortMappingAuthority
{
    public static readonly IPAddress PublicAddress = IPAddress.Parse("198.51.100.10");

    public uint EpochSeconds => 4242;

    public MapRequest? LastMap { get; private set; }

    public MapResult? LastResult { get; private set; }

    public void Forget()
    {
        LastMap = null;
        LastResult = null;
    }

    public MapResult GetPublicAddress(IPAddress client) => new(MapStatus.Success, PublicAddress, 0, 0, TimeSpan.Zero);

    public MapResult Map(MapRequest request)
    {
        LastMap = request;
        LastResult = Decide(request);
        return LastResult;
    }

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null) => new(MapStatus.Success, null, 0, 0, TimeSpan.Zero);

    /// <summary>PEER follows the MAP rule for its internal port (the front end's answer is what is checked).</summary>
    public MapResult Peer(PeerMappingRequest request)
    {
        LastResult = Decide(new MapRequest
        {
            Client = request.Client,
            Protocol = request.Protocol,
            InternalPort = request.InternalPort,
            Lifetime = request.Lifetime,
        });
        return LastResult;
    }

    private static MapResult Decide(MapRequest request)
    {
        if (request.Lifetime == TimeSpan.Zero)
            return new MapResult(MapStatus.Success, PublicAddress, 0, request.InternalPort, TimeSpan.Zero);
        var status = (request.InternalPort % 16) switch
        {
            13 => MapStatus.QuotaExceeded,
            14 => MapStatus.NoResources,
            15 => request.PreferFailure ? MapStatus.CannotProvideExternal : MapStatus.NotAuthorized,
            _ => MapStatus.Success,
        };
        if (status != MapStatus.Success)
            return MapResult.Failure(status);
        var port = (ushort)Math.Max(1024, request.InternalPort ^ 0x5a5a);
        var lifetime = TimeSpan.FromSeconds(Math.Clamp(request.Lifetime.TotalSeconds, 120, 3600));
        return new MapResult(MapStatus.Success, PublicAddress, port, request.InternalPort, lifetime);
    }
}
