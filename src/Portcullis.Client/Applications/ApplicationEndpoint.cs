using System.Net;

namespace Portcullis.Client.Applications;

public enum ApplicationKind
{
    QBittorrent,
    Transmission,
}

/// <summary>
/// <c>--qbittorrent URL</c> / <c>--transmission URL</c> with the optional user and password file. The record holds the
/// file's path, never the password, so printing it (records print every property) leaks nothing.
/// </summary>
public sealed record ApplicationEndpoint(ApplicationKind Kind, Uri Url)
{
    /// <summary>Defaults to none: qBittorrent with "bypass authentication for localhost", Transmission without auth.</summary>
    public string? User { get; init; }

    /// <summary>A file whose first line is the password. Defaults to none (an empty password with a user).</summary>
    public string? PasswordFile { get; init; }

    /// <summary>The credentials to send, read once; null without a user. Throws IOException when the file cannot be read.</summary>
    public NetworkCredential? LoadCredentials()
    {
        if (User is null)
            return null;
        var password = string.Empty;
        if (PasswordFile is { } path)
        {
            using var reader = new StreamReader(path);
            password = reader.ReadLine() ?? string.Empty;
        }
        return new NetworkCredential(User, password);
    }

    /// <summary>Only http and https with a host: anything else is a typo worth refusing at start.</summary>
    public static bool TryParseUrl(string text, out Uri? url)
    {
        url = null;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0
            || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) || parsed.UserInfo.Length > 0)
            return false;
        url = parsed;
        return true;
    }
}
