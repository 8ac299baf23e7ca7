using System.Net;
using System.Runtime.Versioning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Admin.Http;

// The admin API in the gateway process. Start:
//  1. the token file: read (refused when group/world can read it) or created 0600 with 32 random bytes
//  2. an empty host (no appsettings.json, no ASPNETCORE_* variables: the gateway's TOML is the only config) with
//     Kestrel on [admin] listen, the gateway's loggers, snake_case JSON and the OpenAPI document
//  3. middleware (AdminMiddleware): errors → problem+json, then the bearer token, then the endpoints under /api/v1;
//     /healthz and /readyz (HealthEndpoints) need no token; the web console (WebConsole/) logs in with the token
// Dispose stops Kestrel; requests in flight get a few seconds to finish.

/// <summary>The admin HTTP API on <see cref="AdminSection.Listen"/>: <see cref="StartAsync"/>, then dispose to stop.</summary>
[SupportedOSPlatform("linux")]
public sealed class AdminServer : IAsyncDisposable
{
    /// <summary>Where the API listens when [admin] names no address: loopback only.</summary>
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 8351);

    public const string DefaultTokenFile = "/etc/portcullis/admin.token";

    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(3);

    private readonly WebApplication _app;
    private readonly ILogger _logger;
    private int _disposed;

    private AdminServer(WebApplication app, IPEndPoint endpoint, ILogger logger)
    {
        _app = app;
        _logger = logger;
        Endpoint = endpoint;
    }

    /// <summary>The address and port bound (the real port when [admin] listen asked for port 0).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>
    /// Starts listening. Throws <see cref="AdminTokenException"/> when the token file cannot be made or read or is open
    /// to group or others, and <see cref="IOException"/> when the address cannot be bound.
    /// </summary>
    public static async Task<AdminServer> StartAsync(
        AdminSection admin, IGatewayOperations operations, ILoggerFactory loggers, CancellationToken cancellationToken,
        AdminFeatures? features = null)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentNullException.ThrowIfNull(operations);
        ArgumentNullException.ThrowIfNull(loggers);
        var logger = loggers.CreateLogger("portcullis.admin");
        var listen = admin.Listen ?? DefaultListen;
        var tokenFile = admin.TokenFile ?? DefaultTokenFile;

        var token = AdminToken.LoadOrCreate(tokenFile);
        if (token.Created)
            AdminServerLog.TokenCreated(logger, tokenFile);

        var app = Build(listen, token, operations, features ?? new AdminFeatures(), loggers, logger);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        var bound = BoundEndpoint(app, listen);
        // "listening on …" is the host's line (GatewayHostLog.AdminListening); the token file is ours to name.
        AdminServerLog.TokenFile(logger, tokenFile);
        if (!IPAddress.IsLoopback(bound.Address))
            AdminServerLog.NotLoopback(logger, bound);
        return new AdminServer(app, bound, logger);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        using (var grace = new CancellationTokenSource(StopGrace))
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        AdminServerLog.Stopped(_logger);
    }

    private static WebApplication Build(
        IPEndPoint listen, AdminToken token, IGatewayOperations operations, AdminFeatures features, ILoggerFactory loggers, ILogger logger)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "portcullis-admin" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Admin requests are small; a 64 KiB cap keeps a stray upload from costing the gateway memory.
            kestrel.Limits.MaxRequestBodySize = 64 * 1024;
            kestrel.Listen(listen);
        });

        // The gateway's log, not a console of our own; ASP.NET Core's per-request lines are noise there.
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new GatewayLoggerProvider(loggers));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);

        builder.Services.AddRouting();
        builder.Services.AddProblemDetails();
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(o => AdminJson.Configure(o.SerializerOptions, strict: true));
        builder.Services.AddOpenApi(AdminOpenApi.Configure);
        builder.Services.AddSingleton(operations);

        var app = builder.Build();
        var sessions = new WebConsole.ConsoleSessions(features.Time);
        var middleware = new AdminMiddleware(token, sessions, logger);
        app.Use(middleware.TranslateErrorsAsync);
        app.Use(middleware.AuthenticateAsync);
        app.UseRouting();
        app.MapOpenApi(AdminMiddleware.OpenApiPath);
        HealthEndpoints.Map(app, features.Readiness);
        WebConsole.ConsoleEndpoints.Map(app, sessions, token, logger);
        if (features.Metrics is not null)
            MetricsEndpoint.Map(app, features.Metrics);
        var api = app.MapGroup("/api/v1");
        PolicyEndpoints.Map(api);
        PeerEndpoints.Map(api);
        ForwardEndpoints.Map(api);
        MappingEndpoints.Map(api);
        if (features.Reachability is not null)
            ReachabilityEndpoints.Map(api, features.Reachability);
        FleetEndpoints.Map(api);
        return app;
    }

    private static IPEndPoint BoundEndpoint(WebApplication app, IPEndPoint requested)
    {
        if (requested.Port != 0)
            return requested;
        foreach (var url in app.Urls)
        {
            if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
                return new IPEndPoint(requested.Address, uri.Port);
        }
        return requested;
    }

    /// <summary>Hands ASP.NET Core's loggers to the gateway's factory, so its filters and sinks apply.</summary>
    private sealed class GatewayLoggerProvider(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);

        public void Dispose()
        {
            // The gateway owns the factory.
        }
    }
}
