using Portcullis.Linux.Namespaces;

namespace Portcullis.PortMapping.Tests.Support;

/// <summary>
/// Two uniquely named network namespaces joined by a veth pair, standing in for the tunnel: the gateway side holds
/// 10.99.0.1/16, the client side 10.99.0.2/16. The pair is created inside the gateway namespace, so nothing touches
/// the root namespace; Dispose deletes both namespaces (and with them the pair), also when a test fails.
/// </summary>
internal sealed class TunnelLab : IDisposable
{
    public const string GatewayAddress = "10.99.0.1";
    public const string ClientAddress = "10.99.0.2";

    private readonly TestNamespace _gateway;
    private readonly TestNamespace _client;

    public TunnelLab()
    {
        _gateway = new TestNamespace("pcpm-gw");
        try
        {
            _client = new TestNamespace("pcpm-cl");
        }
        catch
        {
            _gateway.Dispose();
            throw;
        }
        try
        {
            _gateway.Ip("link", "add", "pmg0", "type", "veth", "peer", "name", "pmc0", "netns", Client);
            _gateway.Ip("addr", "add", $"{GatewayAddress}/16", "dev", "pmg0");
            _client.Ip("addr", "add", $"{ClientAddress}/16", "dev", "pmc0");
            _gateway.Ip("link", "set", "pmg0", "up");
            _client.Ip("link", "set", "pmc0", "up");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Gateway => _gateway.Name;
    public string Client => _client.Name;

    /// <summary>Runs <paramref name="action"/> on a thread inside the gateway namespace (sockets made there stay there).</summary>
    public void InGateway(Action action) => NetworkNamespace.RunIn(Gateway, action);

    /// <summary>A UDP socket made inside the client namespace, bound to the client's tunnel address.</summary>
    public System.Net.Sockets.Socket ClientSocket() => NetworkNamespace.RunIn(Client, () =>
    {
        var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(ClientAddress), 0));
        return socket;
    });

    /// <summary>Runs natpmpc in the client namespace against the gateway address, in the foreground, killed after 30 s.</summary>
    public (int ExitCode, string Output) Natpmpc(params string[] arguments) =>
        Shell.Run(TimeSpan.FromSeconds(30), "ip", ["netns", "exec", Client, "natpmpc", "-g", GatewayAddress, .. arguments]);

    public void Dispose()
    {
        _client.Dispose();
        _gateway.Dispose();
    }
}
