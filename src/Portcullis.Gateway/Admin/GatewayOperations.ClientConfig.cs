using System.Globalization;
using System.Net;
using System.Text;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

// The wg-quick file handed to a new peer. Address carries the tunnel prefix length (10.99.0.2/16), so our client's
// default --gateway (the first address of that prefix) finds the port-mapping server; the endpoint is the peer's
// dedicated address when it has one (it egresses and is reached there), else the default shared address.
// Nothing may leave a stock client outside the tunnel: DNS names the [tunnel] dns resolvers (else the LAN's resolver
// gets every lookup), and AllowedIPs takes IPv6 too (else wg-quick leaves IPv6 on the physical link). With [tunnel]
// address6 or routed_prefix6 the peer's IPv6 address (its IPv4 address's twin) is a /128 beside it and the tunnel
// carries IPv6; without, the gateway's device drops a client's IPv6 (no allowed-ips of the peer match its source), so
// IPv6 fails inside the tunnel instead of leaking beside it.
public sealed partial class GatewayOperations
{
    private const int PersistentKeepalive = 25;

    private string ClientConfig(StoredPeer peer, byte[]? privateKey, IPAddress? dedicated)
    {
        var text = new StringBuilder();
        text.Append("[Interface]\n");
        if (privateKey is not null)
            text.Append("PrivateKey = ").Append(Convert.ToBase64String(privateKey)).Append('\n');
        else
            text.Append("# PrivateKey = <the private key belonging to ").Append(peer.PublicKey).Append(": put it here>\n");
        text.Append(CultureInfo.InvariantCulture, $"Address = {peer.TunnelAddress}/{_identity.TunnelPrefix.PrefixLength}");
        if (_identity.Ipv6 is { } ipv6)
            text.Append(CultureInfo.InvariantCulture, $", {ipv6.Twin(peer.TunnelAddress)}/128");
        text.Append('\n');
        text.Append("DNS = ").AppendJoin(", ", _identity.Dns).Append('\n');
        text.Append('\n');
        text.Append("[Peer]\n");
        text.Append("PublicKey = ").Append(_identity.PublicKey).Append('\n');
        var endpoint = dedicated ?? _identity.PublicAddresses[0];
        text.Append(CultureInfo.InvariantCulture, $"Endpoint = {endpoint}:{_identity.ListenPort}\n");
        text.Append("AllowedIPs = 0.0.0.0/0, ::/0\n");
        text.Append(CultureInfo.InvariantCulture, $"PersistentKeepalive = {PersistentKeepalive}\n");
        return text.ToString();
    }
}
