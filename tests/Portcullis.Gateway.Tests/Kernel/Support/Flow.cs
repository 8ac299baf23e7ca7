using System.Net;
using System.Net.Sockets;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>A TCP connection made through the gateway: the end that connected and the end that accepted.</summary>
internal sealed class Flow(Socket client, Socket accepted) : IDisposable
{
    public Socket Client { get; } = client;
    public Socket Accepted { get; } = accepted;

    /// <summary>The source address the accepting end saw.</summary>
    public IPAddress Source => Net.RemoteAddress(Accepted);

    /// <summary>Connects a new TCP socket (of <paramref name="address"/>'s family) in <paramref name="from"/> and accepts on <paramref name="listener"/>; both must succeed.</summary>
    public static async Task<Flow> Open(TestNamespace from, Socket listener, IPAddress address, ushort port)
    {
        var client = ForwardingLab.TcpClient(from, address.AddressFamily == AddressFamily.InterNetworkV6);
        Assert.True(await Net.TryConnect(client, address, port));
        var accepted = await Net.TryAccept(listener);
        Assert.NotNull(accepted);
        return new Flow(client, accepted);
    }

    /// <summary>Whether a new TCP socket in <paramref name="from"/> can connect; the socket is closed again.</summary>
    public static async Task<bool> CanConnect(TestNamespace from, IPAddress address, ushort port)
    {
        using var client = ForwardingLab.TcpClient(from, address.AddressFamily == AddressFamily.InterNetworkV6);
        return await Net.TryConnect(client, address, port);
    }

    /// <summary>Sends from the connecting end; what the accepting end received, or null.</summary>
    public async Task<string?> Deliver(string text)
    {
        await Net.Send(Client, text);
        return await Net.TryReceive(Accepted);
    }

    /// <summary>Sends from the accepting end; what the connecting end received, or null.</summary>
    public async Task<string?> Reply(string text)
    {
        await Net.Send(Accepted, text);
        return await Net.TryReceive(Client);
    }

    public void Dispose()
    {
        Accepted.Dispose();
        Client.Dispose();
    }
}
