using System.Net;
using System.Net.Sockets;

namespace Portcullis.Client.Tests.Applications;

/// <summary>
/// A real HTTP server on loopback (HttpListener) playing an application's side of its API, so the updaters are
/// tested against sockets and HTTP as they will meet them. Requests are handled one at a time, in order.
/// </summary>
internal abstract class AppListener : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    protected AppListener(int? port = null)
    {
        Port = port ?? FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    public Uri BaseUrl => new($"http://127.0.0.1:{Port}/");

    /// <summary>Every request as "METHOD PATH", in arrival order.</summary>
    public List<string> Requests { get { lock (_requests) return [.. _requests]; } }
    private readonly List<string> _requests = [];

    protected abstract Task HandleAsync(HttpListenerContext context, string body);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, context.Request.ContentEncoding);
            var body = await reader.ReadToEndAsync();
            lock (_requests)
                _requests.Add($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
            try
            {
                await HandleAsync(context, body);
            }
            finally
            {
                context.Response.Close();
            }
        }
    }

    protected static async Task ReplyAsync(HttpListenerContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
    }

    public static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    public void Dispose()
    {
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
