using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using Portcullis.Client.PortForwarding;

namespace Portcullis.Client.Connect;

/// <summary>
/// The IPv6 side of the forwarded port: with an IPv6 address in the tunnel, a second port keeper maps the same
/// internal port over PCP at the gateway's IPv6 tunnel address (RFC 6887 §11; NAT-PMP has no IPv6). The gateway
/// answers with its public IPv6 address and a port it chose (NAT66), or the peer's own address and port (a routed
/// prefix). The answer is logged and, with <c>--port-file6</c>, written as <c>[ADDRESS]:PORT</c>. Applications, the
/// hook and <c>status</c> keep to the IPv4 mapping: they take one port, and the IPv4 one is what every peer can use.
/// </summary>
public sealed partial class ClientConnection
{
    private void StartPortKeeper6(ConnectOptions options, ForwardSpec forward, IPAddress gateway6, string name,
        IPortKeeperFactory factory, ILoggerFactory loggers)
    {
        var keeper = factory.Create(new PortKeeperOptions
        {
            Forward = forward,
            Gateway = gateway6,
            TunnelInterface = name,
        }, loggers.CreateLogger("portcullis.portkeeper6"));
        _portKeeper6 = keeper;
        string? reported = null;
        keeper.LeaseChanged += lease =>
        {
            if (lease is not { ExternalAddress: { } address } || lease.ExternalPort == 0)
                return;
            var text = string.Create(CultureInfo.InvariantCulture, $"[{address}]:{lease.ExternalPort}");
            if (Interlocked.Exchange(ref reported, text) == text)
                return; // a refresh
            _log.Ipv6Forwarded(address.ToString(), lease.ExternalPort, lease.Protocol.ToString().ToLowerInvariant(), lease.InternalPort);
            if (options.PortFile6 is not { } path)
                return;
            try
            {
                PortFile.Write(path, text);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Ipv6PortFileFailed(path, e.Message);
            }
        };
        keeper.Start();
    }
}
