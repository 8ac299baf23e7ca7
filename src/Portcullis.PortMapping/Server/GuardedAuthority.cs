using System.Net;
using Microsoft.Extensions.Logging;

namespace Portcullis.PortMapping.Server;

/// <summary>
/// The front ends' view of the policy layer: a call that throws is logged (type only), counted and answered as a
/// network failure, so no exception from the policy layer ever reaches the receive loop.
/// </summary>
internal sealed class GuardedAuthority(IPortMappingAuthority inner, PortMappingCounters counters, ILogger logger)
{
    private static readonly MapResult Failed = MapResult.Failure(MapStatus.NetworkFailure);

    public uint EpochSeconds
    {
        get
        {
            try
            {
                return inner.EpochSeconds;
            }
            catch (Exception e)
            {
                Fail(e);
                return 0;
            }
        }
    }

    public MapResult GetPublicAddress(IPAddress client)
    {
        try
        {
            return inner.GetPublicAddress(client) ?? Failed;
        }
        catch (Exception e)
        {
            Fail(e);
            return Failed;
        }
    }

    public MapResult Map(MapRequest request)
    {
        try
        {
            return inner.Map(request) ?? Failed;
        }
        catch (Exception e)
        {
            Fail(e);
            return Failed;
        }
    }

    public MapResult DeleteAll(IPAddress client, MappingProtocol protocol, ReadOnlyMemory<byte>? nonce = null)
    {
        try
        {
            return inner.DeleteAll(client, protocol, nonce) ?? Failed;
        }
        catch (Exception e)
        {
            Fail(e);
            return Failed;
        }
    }

    public MapResult Peer(PeerMappingRequest request)
    {
        try
        {
            return inner.Peer(request) ?? Failed;
        }
        catch (Exception e)
        {
            Fail(e);
            return Failed;
        }
    }

    private void Fail(Exception e)
    {
        counters.OnAuthorityFailure();
        logger.AuthorityFailed(e.GetType().Name);
    }
}
