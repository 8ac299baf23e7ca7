using Microsoft.AspNetCore.Http;

namespace Portcullis.Gateway.Admin.WebConsole;

/// <summary>
/// What a request authenticated by the console's cookie must also show. Reads (GET, HEAD) pass. Anything that changes
/// state needs the session's CSRF token in <see cref="ConsoleSessions.CsrfHeader"/> (the page's script sends it) or,
/// for the logout form, in the form field "csrf"; and an Origin header, when the browser sends one, must be this
/// listener's own. SameSite=Strict already keeps the cookie off cross-site requests; these make that not the only wall.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class ConsoleGuard
{
    public static async Task<string?> RefusalAsync(HttpContext context, ConsoleSession session)
    {
        var request = context.Request;
        if (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
            return null;
        if (!SameOrigin(request))
            return "The request comes from another origin than this console.";
        var presented = request.Headers[ConsoleSessions.CsrfHeader].ToString();
        if (presented.Length == 0 && request.HasFormContentType && request.Path.Equals(ConsoleEndpoints.LogoutPath, StringComparison.Ordinal))
            presented = (await request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false))["csrf"].ToString();
        return ConsoleSessions.CsrfMatches(session, presented)
            ? null
            : $"A console request that changes something must carry the page's CSRF token ({ConsoleSessions.CsrfHeader}).";
    }

    /// <summary>True without an Origin header (not a browser's cross-origin request) or with this listener's own.</summary>
    public static bool SameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
            return true;
        return string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }
}
