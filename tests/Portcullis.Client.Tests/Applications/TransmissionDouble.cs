using System.Net;
using System.Text;
using System.Text.Json;

namespace Portcullis.Client.Tests.Applications;

/// <summary>
/// Transmission's side of its RPC: 409 with a fresh X-Transmission-Session-Id for a request without the current
/// one; 401 when Basic credentials are required and wrong; session-set with arguments.peer-port answers
/// {"result":"success"}; <see cref="NextResult"/> makes it answer something else once.
/// </summary>
internal sealed class TransmissionDouble(string? user = null, string? password = null, int? port = null) : AppListener(port)
{
    private int _peerPort;

    public string SessionId { get; private set; } = "session-1";

    public int PeerPort => Volatile.Read(ref _peerPort);

    public string? NextResult { get; set; }

    public Uri RpcUrl => new(BaseUrl, "transmission/rpc");

    /// <summary>What a restart does: a new session id, so the client's stored one is stale.</summary>
    public void NewSession() => SessionId = "session-" + Guid.NewGuid().ToString("N")[..8];

    protected override async Task HandleAsync(HttpListenerContext context, string body)
    {
        if (user is not null)
        {
            var expected = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));
            if (context.Request.Headers["Authorization"] != expected)
            {
                await ReplyAsync(context, 401, "<h1>401: Unauthorized</h1>");
                return;
            }
        }
        if (context.Request.Headers["X-Transmission-Session-Id"] != SessionId)
        {
            context.Response.AppendHeader("X-Transmission-Session-Id", SessionId);
            await ReplyAsync(context, 409, "<h1>409: Conflict</h1>");
            return;
        }
        using var json = JsonDocument.Parse(body);
        if (json.RootElement.GetProperty("method").GetString() == "session-set"
            && json.RootElement.GetProperty("arguments").TryGetProperty("peer-port", out var peerPort))
        {
            var result = NextResult ?? "success";
            NextResult = null;
            if (result == "success")
                Volatile.Write(ref _peerPort, peerPort.GetInt32());
            await ReplyAsync(context, 200, $"{{\"arguments\":{{}},\"result\":\"{result}\"}}");
            return;
        }
        await ReplyAsync(context, 200, "{\"arguments\":{},\"result\":\"method name not recognized\"}");
    }
}
