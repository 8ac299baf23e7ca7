using System.Net;
using System.Text.Json;
using System.Web;

namespace Portcullis.Client.Tests.Applications;

/// <summary>
/// qBittorrent's side of Web API v2 as 4.5 behaves: login by form (username, password) answers "Ok." with a SID
/// cookie or "Fails."; setPreferences takes a form field json and answers 403 without a session unless localhost
/// authentication is bypassed; a login without a Referer/Origin of its own host is refused (its CSRF check).
/// </summary>
internal sealed class QBittorrentDouble(string user, string password, bool bypassLocalhost, int? port = null) : AppListener(port)
{
    private const string Sid = "c2Vzc2lvbi1pZA";
    private int _listenPort;

    public int ListenPort => Volatile.Read(ref _listenPort);

    public int Logins { get; private set; }

    protected override async Task HandleAsync(HttpListenerContext context, string body)
    {
        var form = HttpUtility.ParseQueryString(body);
        var referer = context.Request.Headers["Referer"];
        switch (context.Request.Url!.AbsolutePath)
        {
            case "/api/v2/auth/login":
                Logins++;
                if (referer is null || !referer.StartsWith(BaseUrl.ToString(), StringComparison.Ordinal))
                {
                    await ReplyAsync(context, 401, "Unauthorized");
                    return;
                }
                if (form["username"] == user && form["password"] == password)
                {
                    context.Response.AppendHeader("Set-Cookie", $"SID={Sid}; HttpOnly; path=/");
                    await ReplyAsync(context, 200, "Ok.");
                }
                else
                {
                    await ReplyAsync(context, 200, "Fails.");
                }
                return;
            case "/api/v2/app/setPreferences":
                if (!bypassLocalhost && context.Request.Cookies["SID"]?.Value != Sid)
                {
                    await ReplyAsync(context, 403, "Forbidden");
                    return;
                }
                using (var json = JsonDocument.Parse(form["json"] ?? "{}"))
                {
                    if (json.RootElement.TryGetProperty("listen_port", out var value))
                        Volatile.Write(ref _listenPort, value.GetInt32());
                }
                await ReplyAsync(context, 200, "");
                return;
            default:
                await ReplyAsync(context, 404, "Not Found");
                return;
        }
    }
}
