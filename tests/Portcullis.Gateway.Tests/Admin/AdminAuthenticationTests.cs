using System.Net;
using System.Net.Http.Headers;
using System.Runtime.Versioning;

namespace Portcullis.Gateway.Tests.Admin;

[SupportedOSPlatform("linux")]
public sealed class AdminAuthenticationTests
{
    [Theory]
    [InlineData("GET", "/api/v1/status")]
    [InlineData("GET", "/api/v1/peers")]
    [InlineData("POST", "/api/v1/peers")]
    [InlineData("DELETE", "/api/v1/peers/alice")]
    [InlineData("GET", "/api/v1/mappings")]
    [InlineData("PUT", "/api/v1/policy")]
    [InlineData("GET", "/api/v1/nothing-here")]
    public async Task Request_NoToken_Returns401WithReasonAndChallenge(string method, string path)
    {
        await using var api = await AdminApi.StartAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
            request.Content = new StringContent("""{"name":"alice"}""", System.Text.Encoding.UTF8, "application/json");

        var response = await api.Anonymous.SendAsync(request);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Contains("Bearer", reason, StringComparison.Ordinal);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(0, api.Operations.Changes);
    }

    [Theory]
    [InlineData("Bearer", "wrong-token-but-long-enough")]
    [InlineData("Bearer", AdminApi.Token + "x")]
    [InlineData("Basic", AdminApi.Token)]
    public async Task Request_WrongToken_Returns401(string scheme, string token)
    {
        await using var api = await AdminApi.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/peers");
        request.Headers.Authorization = new AuthenticationHeaderValue(scheme, token);

        var response = await api.Anonymous.SendAsync(request);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.DoesNotContain(AdminApi.Token, reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_RightToken_Returns200WithStatus()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.GetAsync("/api/v1/status");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = await AdminApi.JsonAsync(response);
        Assert.Equal("pc0", status.GetProperty("interface").GetString());
        Assert.Equal(51820, status.GetProperty("listen_port").GetInt32());
        Assert.Equal("198.51.100.10", status.GetProperty("public_addresses")[0].GetString());
        Assert.Equal(42, status.GetProperty("epoch_seconds").GetInt64());
    }

    [Fact]
    public async Task OpenApiDocument_NoToken_ListsEveryEndpointAndTheBearerScheme()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Anonymous.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = await AdminApi.JsonAsync(response);
        var paths = document.GetProperty("paths");
        (string Path, string Method)[] expected =
        [
            ("/api/v1/status", "get"),
            ("/api/v1/peers", "get"), ("/api/v1/peers", "post"),
            ("/api/v1/peers/{idOrName}", "get"), ("/api/v1/peers/{idOrName}", "delete"),
            ("/api/v1/peers/{idOrName}/enable", "post"), ("/api/v1/peers/{idOrName}/disable", "post"),
            ("/api/v1/forwards", "get"), ("/api/v1/forwards", "post"),
            ("/api/v1/forwards/{address}/{protocol}/{port}", "delete"),
            ("/api/v1/mappings", "get"), ("/api/v1/mappings/{address}/{protocol}/{port}", "delete"),
            ("/api/v1/policy", "get"), ("/api/v1/policy", "put"),
        ];
        foreach (var (path, method) in expected)
        {
            Assert.True(paths.TryGetProperty(path, out var item), $"{path} missing from the OpenAPI document");
            Assert.True(item.TryGetProperty(method, out _), $"{method} {path} missing from the OpenAPI document");
        }
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());
        Assert.True(paths.GetProperty("/api/v1/peers").GetProperty("post").GetProperty("responses").TryGetProperty("401", out _));
        var schemas = document.GetProperty("components").GetProperty("schemas");
        Assert.True(schemas.GetProperty("PeerModel").GetProperty("properties").TryGetProperty("tunnel_address", out _));
    }
}
