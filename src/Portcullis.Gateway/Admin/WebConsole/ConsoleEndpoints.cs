using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Gateway.Admin.WebConsole;

// The web console on the admin listener:
//   GET  /login          the form (token → POST /login); no script needed to log in
//   POST /login          the admin token → a session cookie (HttpOnly, SameSite=Strict) → 303 to /; wrong: 401 + form
//   GET  /               the console page (with the session's CSRF token in a meta tag), or 303 to /login
//   POST /logout         ends the session (cookie + CSRF, as every state-changing console request) → 303 to /login
//   GET  /console/FILE   app.js, app.css: our own, embedded
// Everything the page does afterwards goes through /api/v1 with the cookie and the CSRF header (ConsoleGuard).
// Pages are sent with a Content-Security-Policy that allows this origin only: the console cannot fetch from anywhere
// else, and nothing injected could either.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class ConsoleEndpoints
{
    public const string LoginPath = "/login";
    public const string LogoutPath = "/logout";
    public const string AssetPrefix = "/console/";

    private const string Policy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public static void Map(IEndpointRouteBuilder app, ConsoleSessions sessions, AdminToken token, ILogger logger)
    {
        app.MapGet(LoginPath, (HttpContext context) => Page(context, LoginPage(null), StatusCodes.Status200OK)).ExcludeFromDescription();
        app.MapPost(LoginPath, async (HttpContext context) =>
        {
            if (!context.Request.HasFormContentType)
                return Page(context, LoginPage("Send the form."), StatusCodes.Status400BadRequest);
            if (!ConsoleGuard.SameOrigin(context.Request))
                return Page(context, LoginPage("This form must be sent from this console."), StatusCodes.Status403Forbidden);
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            var presented = form["token"].ToString().Trim();
            if (presented.Length == 0 || !token.Matches(presented))
            {
                AdminServerLog.Unauthorized(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", LoginPath);
                return Page(context, LoginPage("That is not this gateway's admin token."), StatusCodes.Status401Unauthorized);
            }
            var (cookie, _) = sessions.Create();
            context.Response.Cookies.Append(ConsoleSessions.CookieName, cookie, new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Path = "/",
                MaxAge = ConsoleSessions.Lifetime,
                Secure = context.Request.IsHttps,
                IsEssential = true,
            });
            return SeeOther(context, "/");
        }).ExcludeFromDescription();
        app.MapPost(LogoutPath, (HttpContext context) =>
        {
            // The middleware let this through only with a live session and its CSRF token.
            sessions.Remove(context.Request.Cookies[ConsoleSessions.CookieName]);
            context.Response.Cookies.Delete(ConsoleSessions.CookieName, new CookieOptions { Path = "/", HttpOnly = true, SameSite = SameSiteMode.Strict });
            return SeeOther(context, LoginPath);
        }).ExcludeFromDescription();
        app.MapGet("/", (HttpContext context) =>
        {
            var session = sessions.Find(context.Request.Cookies[ConsoleSessions.CookieName]);
            if (session is null)
                return Results.Redirect(LoginPath);
            var page = ConsoleAssets.Text("index.html").Replace("{{csrf}}", WebUtility.HtmlEncode(session.CsrfToken), StringComparison.Ordinal);
            return Page(context, page, StatusCodes.Status200OK);
        }).ExcludeFromDescription();
        app.MapGet(AssetPrefix + "{name}", (string name, HttpContext context) =>
        {
            if (ConsoleAssets.Find(name) is not { } file || name.EndsWith(".html", StringComparison.Ordinal))
                return Results.NotFound();
            Secure(context);
            context.Response.Headers.CacheControl = "no-cache";
            return Results.Bytes(file.Content, file.ContentType);
        }).ExcludeFromDescription();
    }

    // 303: after a POST the browser fetches the next page with GET (302 leaves the method to the client).
    private static IResult SeeOther(HttpContext context, string location)
    {
        context.Response.Headers.Location = location;
        return Results.StatusCode(StatusCodes.Status303SeeOther);
    }

    private static IResult Page(HttpContext context, string html, int status)
    {
        Secure(context);
        context.Response.Headers.CacheControl = "no-store";
        return Results.Content(html, "text/html; charset=utf-8", System.Text.Encoding.UTF8, status);
    }

    private static void Secure(HttpContext context)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = Policy;
        headers.XFrameOptions = "DENY";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin"; // not no-referrer: Chromium then sends "Origin: null", which ConsoleGuard refuses
    }

    private static string LoginPage(string? error) => ConsoleAssets.Text("login.html").Replace("{{error}}",
        error is null ? "" : $"<p class=\"error\" id=\"login-error\" role=\"alert\">{WebUtility.HtmlEncode(error)}</p>", StringComparison.Ordinal);
}
