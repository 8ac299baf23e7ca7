using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Gateway.Health;

namespace Portcullis.Gateway.Tests.Admin;

[SupportedOSPlatform("linux")]
public sealed class HealthEndpointTests
{
    [Fact]
    public async Task Healthz_NoToken_AnswersOkAndNothingElse()
    {
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Readiness = new FixedReadiness(HealthReport.Failing(HealthReasons.DeviceDown)) });

        var response = await api.Anonymous.GetAsync("/healthz");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await AdminApi.JsonAsync(response);
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal(2, body.EnumerateObject().Count());
    }

    [Theory]
    [InlineData(HealthState.Ok, null, HttpStatusCode.OK, "ok")]
    [InlineData(HealthState.Degraded, HealthReasons.StoreUnreachable, HttpStatusCode.OK, "degraded")]
    [InlineData(HealthState.Failing, HealthReasons.TableMissing, HttpStatusCode.ServiceUnavailable, "failing")]
    public async Task Readyz_NoToken_AnswersTheStateAndReasonCode(HealthState state, string? reason, HttpStatusCode expected, string name)
    {
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Readiness = new FixedReadiness(new HealthReport(state, reason)) });

        var response = await api.Anonymous.GetAsync("/readyz");

        Assert.Equal(expected, response.StatusCode);
        var body = await AdminApi.JsonAsync(response);
        Assert.Equal(name, body.GetProperty("status").GetString());
        Assert.Equal(reason, body.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Api_StillWantsTheToken_WhileHealthIsOpen()
    {
        await using var api = await AdminApi.StartAsync(new AdminFeatures { Readiness = new FixedReadiness(HealthReport.Ok) });

        Assert.Equal(HttpStatusCode.OK, (await api.Anonymous.GetAsync("/readyz")).StatusCode);
        await AdminApi.ProblemAsync(await api.Anonymous.GetAsync("/api/v1/status"), HttpStatusCode.Unauthorized);
        await AdminApi.ProblemAsync(await api.Anonymous.GetAsync("/readyz/../api/v1/status"), HttpStatusCode.Unauthorized);
    }

    private sealed class FixedReadiness(HealthReport report) : IGatewayReadiness
    {
        public Task<HealthReport> CheckAsync(CancellationToken cancellationToken) => Task.FromResult(report);
    }
}
