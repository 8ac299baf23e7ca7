using System.Net;

namespace Portcullis.Client.Applications;

/// <summary>The HttpClient an updater talks to its application with.</summary>
internal static class ApplicationHttp
{
    /// <summary>One request may take this long; the caller retries. Defaults chosen for an application on this host.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// No proxy: the application is local (or on the LAN), and an http_proxy from the environment must not see its
    /// credentials. Cookies only where the API needs a session (qBittorrent's SID).
    /// </summary>
    public static HttpClient Create(CookieContainer? cookies)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = cookies is not null,
            CookieContainer = cookies ?? new CookieContainer(),
            ConnectTimeout = TimeSpan.FromSeconds(5),
            AllowAutoRedirect = false,
            // An application restarted on the same port must not be talked to over a connection to its old self.
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(15),
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = RequestTimeout };
    }

    /// <summary>The base URL as a directory, so relative API paths append to it (a reverse-proxy prefix is kept).</summary>
    public static Uri AsDirectory(Uri url) =>
        url.AbsolutePath.EndsWith('/') ? url : new UriBuilder(url) { Path = url.AbsolutePath + "/" }.Uri;
}
