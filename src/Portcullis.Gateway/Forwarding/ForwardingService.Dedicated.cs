using System.Net;

namespace Portcullis.Gateway.Forwarding;

// Dedicated public addresses: a peer that owns one gets its mappings there (and egresses from it, in the kernel).
public sealed partial class ForwardingService
{
    // The per-peer hook for dedicated public addresses: today every peer shares the first.
    private IPAddress PublicAddressFor(string peerId)
    {
        _ = peerId;
        return _publicAddresses[0];
    }
}
