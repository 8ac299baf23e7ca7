using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin.Http;

// Every request passes, in order:
//  1. errors: whatever the rest throws becomes RFC 7807 problem+json with a reason (400, 409, 503 for a store or
//     kernel that refused, 500)
//  2. authentication: the bearer token, or the web console's session cookie (plus its CSRF token for changes:
//     WebConsole/ConsoleGuard.cs); none for what holds no data: the OpenAPI document, /healthz, /readyz, the
//     console's login form and its script and style files
//  3. routing to the endpoint, which parses and validates before it calls IGatewayOperations
[SupportedOSPlatform("linux")]
internal sealed class AdminMiddleware(AdminToken token, WebConsole.ConsoleSessions sessions, ILogger logger)
{
    public const string OpenApiPath = "/openapi/v1.json";

    public async Task TranslateErrorsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
            if (context.Response.StatusCode >= 400 && !context.Response.HasStarted && EmptyAnswerReason(context.Response.StatusCode) is { } reason)
                await AdminProblem.Write(context, context.Response.StatusCode, "Request refused", reason).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The operator's client went away; nothing to answer.
        }
        catch (Exception e) when (!context.Response.HasStarted && Translate(e) is { } problem)
        {
            if (problem.Status >= 500)
                AdminServerLog.RequestFailed(logger, context.Request.Method, context.Request.Path, e);
            await AdminProblem.Write(context, problem.Status, problem.Title, problem.Detail).ConfigureAwait(false);
        }
    }

    public async Task AuthenticateAsync(HttpContext context, RequestDelegate next)
    {
        if (IsAnonymous(context.Request))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var header = context.Request.Headers.Authorization.ToString();
        if (header.Length == 0 && sessions.Find(context.Request.Cookies[WebConsole.ConsoleSessions.CookieName]) is { } session)
        {
            var refusal = await WebConsole.ConsoleGuard.RefusalAsync(context, session).ConfigureAwait(false);
            if (refusal is null)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
            AdminServerLog.Unauthorized(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Request.Path);
            await AdminProblem.Write(context, StatusCodes.Status403Forbidden, "Forbidden", refusal).ConfigureAwait(false);
            return;
        }
        const string scheme = "Bearer ";
        string? reason = null;
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            reason = "No bearer token: send 'Authorization: Bearer TOKEN' with the token from the gateway's admin token file.";
        else if (!token.Matches(header.AsSpan(scheme.Length).Trim()))
            reason = "The bearer token is not this gateway's admin token.";
        if (reason is null)
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        AdminServerLog.Unauthorized(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Request.Path);
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"portcullis\"";
        await AdminProblem.Write(context, StatusCodes.Status401Unauthorized, "Unauthorized", reason).ConfigureAwait(false);
    }

    private static bool IsAnonymous(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsPost(request.Method))
            return path.Equals(WebConsole.ConsoleEndpoints.LoginPath, StringComparison.Ordinal);
        if (!HttpMethods.IsGet(request.Method))
            return false;
        // "/" answers a visitor without a session with a redirect to the login form, and nothing else.
        return path.Equals(OpenApiPath, StringComparison.Ordinal)
            || path.Equals(HealthEndpoints.Live, StringComparison.Ordinal)
            || path.Equals(HealthEndpoints.Ready, StringComparison.Ordinal)
            || path.Equals("/", StringComparison.Ordinal)
            || path.Equals(WebConsole.ConsoleEndpoints.LoginPath, StringComparison.Ordinal)
            || path.StartsWithSegments(WebConsole.ConsoleEndpoints.AssetPrefix.TrimEnd('/'), StringComparison.Ordinal);
    }

    // Routing answers these with an empty body; the operator still gets a reason.
    private static string? EmptyAnswerReason(int status) => status switch
    {
        404 => "No such endpoint; the API lives under /api/v1 and is described at " + OpenApiPath + ".",
        405 => "This endpoint does not take that method; see " + OpenApiPath + ".",
        415 => "Send the body as JSON (Content-Type: application/json).",
        _ => null,
    };

    private static (int Status, string Title, string Detail)? Translate(Exception e) => e switch
    {
        AdminRequestException => (400, "Bad request", e.Message),
        StoreConflictException => (409, "Conflict", e.Message),
        AuditUnavailableException => (409, "Auditing is off", e.Message),
        BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == 400 ? "Bad request" : "Request refused",
            bad.InnerException is JsonException json ? $"{bad.Message} {json.Message}" : bad.Message),
        JsonException => (400, "Bad request", e.Message),
        StoreException => (503, "Store unavailable", e.Message),
        // nft's own words: what the kernel refused and why. The transaction did not happen; the previous state holds.
        ForwardingTableException => (503, "Kernel refused the change", e.Message),
        _ => (500, "Internal error", "The gateway could not carry out the request; its log says why."),
    };
}

/// <summary>RFC 7807 answers.</summary>
internal static class AdminProblem
{
    public static Task Write(HttpContext context, int status, string title, string detail)
        => TypedResultsProblem(status, title, detail).ExecuteAsync(context);

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult NotFound(string detail)
        => TypedResultsProblem(StatusCodes.Status404NotFound, "Not found", detail);

    private static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TypedResultsProblem(int status, string title, string detail)
        => TypedResults.Problem(detail: detail, statusCode: status, title: title);
}
