using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Gateway.Reachability;

// The peers' side of "is my port really open?": HTTP on the gateway's tunnel address, TCP 8352, no token — the
// WireGuard session is the authentication, as for NAT-PMP/PCP: the source address names the peer, and a peer may
// check only its own mappings (ReachabilityChecker). Bound to the tunnel address only; the table's input chain
// drops the tunnel prefix arriving from the public side anyway.
//   GET /v1/reachability/{tcp|udp}/{public port} → 200 {"result": "reachable" | "closed" | "no_answer", …}
//                                                  404 not your mapping, 429 too often, 400 bad protocol or port

/// <summary>The tunnel-side reachability listener: <see cref="StartAsync"/>, then dispose.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ReachabilityServer : IAsyncDisposable
{
    /// <summary>TCP port on the gateway's tunnel address (next to the admin API's 8351).</summary>
    public const int Port = ReachabilityModel.TunnelPort;

    private readonly WebApplication _app;

    private ReachabilityServer(WebApplication app) => _app = app;

    public static async Task<ReachabilityServer> StartAsync(IPAddress tunnelAddress, ReachabilityChecker checker, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "portcullis-reachability" });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.MaxConcurrentConnections = 64;
            kestrel.Listen(tunnelAddress, Port);
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggers));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.Services.AddRouting();
        var app = builder.Build();
        app.UseRouting();
        app.MapGet("/v1/reachability/{protocol}/{port}", async (string protocol, string port, HttpContext context) =>
        {
            var source = context.Connection.RemoteIpAddress;
            if (source is null)
                return Results.StatusCode(StatusCodes.Status400BadRequest);
            if (source.IsIPv4MappedToIPv6)
                source = source.MapToIPv4();
            if (!ReachabilityModel.TryProtocol(protocol, out var parsed) || !ushort.TryParse(port, out var publicPort) || publicPort == 0)
                return Results.Problem(detail: "Ask for /v1/reachability/tcp|udp/PUBLIC_PORT.", statusCode: StatusCodes.Status400BadRequest);
            var (report, refusal) = await checker.CheckForPeerAsync(source, parsed, publicPort, context.RequestAborted).ConfigureAwait(false);
            if (report is not null)
                return Results.Json(ReachabilityModel.From(report), AdminJson.Server);
            var (status, reason) = ReachabilityModel.Refused(refusal!.Value);
            return Results.Problem(detail: reason, statusCode: status);
        });
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new ReachabilityServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
            await _app.StopAsync(grace.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private sealed class ForwardingLoggerProvider(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);

        public void Dispose()
        {
            // The gateway owns the factory.
        }
    }
}
