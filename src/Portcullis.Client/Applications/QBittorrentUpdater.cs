using System.Globalization;
using System.Net;

namespace Portcullis.Client.Applications;

/// <summary>
/// qBittorrent's Web API v2:
///   1. POST api/v2/app/setPreferences, form json={"listen_port":N} (works at once with "bypass authentication for
///      clients on localhost", or with a session cookie from an earlier login);
///   2. on 403 with credentials: POST api/v2/auth/login (form username, password; "Ok." sets the SID cookie), then 1 again.
/// Referer is set to the Web UI's own origin, which qBittorrent's CSRF check accepts.
/// </summary>
public sealed class QBittorrentUpdater : IPortPublisher
{
    private readonly Uri _base;
    private readonly NetworkCredential? _credentials;
    private readonly HttpClient _http;

    public QBittorrentUpdater(ApplicationEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _base = ApplicationHttp.AsDirectory(endpoint.Url);
        _credentials = endpoint.LoadCredentials();
        _http = ApplicationHttp.Create(new CookieContainer());
    }

    public string Name => "qBittorrent";

    public async Task SetPortAsync(ushort port, CancellationToken cancellationToken)
    {
        using (var first = await SetPreferencesAsync(port, cancellationToken).ConfigureAwait(false))
        {
            if (first.IsSuccessStatusCode)
                return;
            if (first.StatusCode != HttpStatusCode.Forbidden)
                throw new PortPublishException($"setPreferences answered {(int)first.StatusCode} {first.ReasonPhrase}");
            if (_credentials is null)
                throw new PortPublishException("the Web UI wants a login (403): pass --qbittorrent-user and --qbittorrent-password-file, or enable \"Bypass authentication for clients on localhost\"");
        }
        await LoginAsync(_credentials, cancellationToken).ConfigureAwait(false);
        using var second = await SetPreferencesAsync(port, cancellationToken).ConfigureAwait(false);
        if (!second.IsSuccessStatusCode)
            throw new PortPublishException($"setPreferences answered {(int)second.StatusCode} {second.ReasonPhrase} after logging in");
    }

    private Task<HttpResponseMessage> SetPreferencesAsync(ushort port, CancellationToken cancellationToken)
    {
        var json = "{\"listen_port\":" + port.ToString(CultureInfo.InvariantCulture) + "}";
        return PostAsync("api/v2/app/setPreferences", [new("json", json)], cancellationToken);
    }

    private async Task LoginAsync(NetworkCredential credentials, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("api/v2/auth/login",
            [new("username", credentials.UserName), new("password", credentials.Password)], cancellationToken).ConfigureAwait(false);
        var body = (await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)).Trim();
        if (response.StatusCode == HttpStatusCode.Forbidden)
            throw new PortPublishException("the login was refused with 403: qBittorrent bans an address after repeated failed logins") { Retry = false };
        if (!response.IsSuccessStatusCode || body != "Ok.")
            throw new PortPublishException($"the login as '{credentials.UserName}' failed (check --qbittorrent-user and the password file)") { Retry = false };
    }

    private async Task<HttpResponseMessage> PostAsync(string path, KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, path))
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Referrer = _base;
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();
}
