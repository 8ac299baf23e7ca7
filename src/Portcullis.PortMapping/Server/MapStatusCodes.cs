using Portcullis.PortMapping.NatPmp;
using Portcullis.PortMapping.Pcp;

namespace Portcullis.PortMapping.Server;

/// <summary>The policy layer's protocol-neutral answers in each protocol's result codes.</summary>
internal static class MapStatusCodes
{
    public static NatPmpResultCode ToNatPmp(MapStatus status) => status switch
    {
        MapStatus.Success => NatPmpResultCode.Success,
        MapStatus.NotAuthorized or MapStatus.UnknownClient => NatPmpResultCode.NotAuthorized,
        MapStatus.QuotaExceeded or MapStatus.NoResources or MapStatus.CannotProvideExternal
            or MapStatus.ExcessiveRemotePeers => NatPmpResultCode.OutOfResources,
        _ => NatPmpResultCode.NetworkFailure,
    };

    /// <summary>The code of a public-address answer: NAT-PMP can only carry an IPv4 address, anything else is a network failure.</summary>
    public static NatPmpResultCode ToNatPmpPublicAddress(MapResult result)
    {
        var code = ToNatPmp(result.Status);
        return code == NatPmpResultCode.Success && result.ExternalAddress?.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
            ? NatPmpResultCode.NetworkFailure
            : code;
    }

    public static PcpResultCode ToPcp(MapStatus status) => status switch
    {
        MapStatus.Success => PcpResultCode.Success,
        MapStatus.NotAuthorized or MapStatus.UnknownClient => PcpResultCode.NotAuthorized,
        MapStatus.QuotaExceeded => PcpResultCode.UserExceededQuota,
        MapStatus.NoResources => PcpResultCode.NoResources,
        MapStatus.CannotProvideExternal => PcpResultCode.CannotProvideExternal,
        MapStatus.ExcessiveRemotePeers => PcpResultCode.ExcessiveRemotePeers,
        _ => PcpResultCode.NetworkFailure,
    };

    /// <summary>A lifetime in whole seconds, as both protocols carry it (negative → 0, beyond 32 bits → the maximum).</summary>
    public static uint Seconds(TimeSpan lifetime) =>
        lifetime <= TimeSpan.Zero ? 0 : lifetime.TotalSeconds >= uint.MaxValue ? uint.MaxValue : (uint)lifetime.TotalSeconds;
}
