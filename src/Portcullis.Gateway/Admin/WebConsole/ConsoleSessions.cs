using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Portcullis.Gateway.Admin.WebConsole;

/// <summary>A logged-in console: the CSRF token its pages carry, and when it ends.</summary>
internal sealed record ConsoleSession(string CsrfToken, DateTimeOffset Expires);

/// <summary>
/// The web console's sessions, in memory (a restart logs everyone out, which is fine for an operator's console).
/// Logging in with the admin token gives a random session id, kept by the browser in an HttpOnly, SameSite=Strict
/// cookie; the server keeps only a SHA-256 of it, so a heap dump holds no usable cookie. Each session has a CSRF token
/// that every state-changing request made with the cookie must repeat in a header (synchronizer token), on top of
/// SameSite. Sessions end after <see cref="Lifetime"/> or at logout. Thread-safe.
/// </summary>
internal sealed class ConsoleSessions(TimeProvider time)
{
    public const string CookieName = "portcullis_session";
    public const string CsrfHeader = "X-CSRF-Token";

    /// <summary>A working day; then the token is asked for again.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    /// <summary>More at once is someone scripting logins; the oldest go first.</summary>
    private const int MaxSessions = 64;

    private readonly ConcurrentDictionary<string, ConsoleSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>A new session; returns the cookie value (shown to nobody but the browser) and the session.</summary>
    public (string Cookie, ConsoleSession Session) Create()
    {
        var now = time.GetUtcNow();
        Sweep(now);
        var cookie = NewSecret();
        var session = new ConsoleSession(NewSecret(), now + Lifetime);
        _sessions[Key(cookie)] = session;
        return (cookie, session);
    }

    /// <summary>The live session this cookie value opens, or null.</summary>
    public ConsoleSession? Find(string? cookie)
    {
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 128)
            return null;
        var key = Key(cookie);
        if (!_sessions.TryGetValue(key, out var session))
            return null;
        if (session.Expires > time.GetUtcNow())
            return session;
        _sessions.TryRemove(key, out _);
        return null;
    }

    public void Remove(string? cookie)
    {
        if (!string.IsNullOrEmpty(cookie) && cookie.Length <= 128)
            _sessions.TryRemove(Key(cookie), out _);
    }

    /// <summary>Constant-time comparison of a presented CSRF token with the session's.</summary>
    public static bool CsrfMatches(ConsoleSession session, string? presented) =>
        presented is not null && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(session.CsrfToken), System.Text.Encoding.UTF8.GetBytes(presented));

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, session) in _sessions)
        {
            if (session.Expires <= now)
                _sessions.TryRemove(key, out _);
        }
        while (_sessions.Count >= MaxSessions)
        {
            var oldest = _sessions.MinBy(s => s.Value.Expires);
            _sessions.TryRemove(oldest.Key, out _);
        }
    }

    private static string NewSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string Key(string cookie) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(cookie)));
}
