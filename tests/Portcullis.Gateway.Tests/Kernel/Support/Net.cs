using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Portcullis.Gateway.Tests.Kernel.Support;

/// <summary>Socket steps with short timeouts, for traffic that should or should not get through.</summary>
internal static class Net
{
    /// <summary>How long a packet that should arrive may take; also how long we wait for one that must not.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(1.5);

    public static async Task<bool> TryConnect(Socket socket, IPAddress address, ushort port)
    {
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            await socket.ConnectAsync(new IPEndPoint(address, port), cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static async Task<Socket?> TryAccept(Socket listener)
    {
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            return await listener.AcceptAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static async Task Send(Socket socket, string text) =>
        await socket.SendAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None);

    /// <summary>The text received within <see cref="Patience"/>, or null if nothing came (or the stream ended/reset).</summary>
    public static async Task<string?> TryReceive(Socket socket)
    {
        var buffer = new byte[512];
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            var n = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return n == 0 ? null : Encoding.ASCII.GetString(buffer, 0, n);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (SocketException)
        {
            return null;
        }
    }

    public static async Task SendTo(Socket socket, string text, IPAddress address, ushort port) =>
        await socket.SendToAsync(Encoding.ASCII.GetBytes(text), SocketFlags.None, new IPEndPoint(address, port));

    /// <summary>A datagram received within <see cref="Patience"/> and where it came from, or null.</summary>
    public static async Task<(string Text, IPEndPoint From)?> TryReceiveFrom(Socket socket)
    {
        var buffer = new byte[512];
        using var cts = new CancellationTokenSource(Patience);
        try
        {
            var result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0), cts.Token);
            return (Encoding.ASCII.GetString(buffer, 0, result.ReceivedBytes), (IPEndPoint)result.RemoteEndPoint);
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    public static IPAddress RemoteAddress(Socket socket) => ((IPEndPoint)socket.RemoteEndPoint!).Address;
}
