using System.Net;
using System.Net.Http.Headers;
using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Admin.Http;
using Portcullis.Gateway.Configuration;

namespace Portcullis.Gateway.Tests.Admin;

/// <summary>A real <see cref="AdminServer"/> on a loopback port of its own over <see cref="GatewayOperationsDouble"/>.</summary>
[SupportedOSPlatform("linux")]
internal sealed class AdminApi : IAsyncDisposable
{
    public const string Token = "test-token-3kX9vQ2mW7pL5nR8";

    private readonly AdminServer _server;
    private readonly string _folder;

    private AdminApi(AdminServer server, string folder, GatewayOperationsDouble operations)
    {
        _server = server;
        _folder = folder;
        Operations = operations;
        Client = new HttpClient { BaseAddress = new Uri($"http://{server.Endpoint}") };
        Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Anonymous = new HttpClient { BaseAddress = Client.BaseAddress };
    }

    public GatewayOperationsDouble Operations { get; }

    /// <summary>Sends the right token.</summary>
    public HttpClient Client { get; }

    /// <summary>Sends no token.</summary>
    public HttpClient Anonymous { get; }

    public static async Task<AdminApi> StartAsync(AdminFeatures? features = null)
    {
        var folder = Directory.CreateTempSubdirectory("portcullis-admin-").FullName;
        try
        {
            var tokenFile = Path.Combine(folder, "admin.token");
            File.WriteAllText(tokenFile, Token + "\n");
            File.SetUnixFileMode(tokenFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            var operations = new GatewayOperationsDouble();
            var admin = new AdminSection { Listen = new IPEndPoint(IPAddress.Loopback, 0), TokenFile = tokenFile };
            var server = await AdminServer.StartAsync(admin, operations, NullLoggerFactory.Instance, CancellationToken.None, features);
            return new AdminApi(server, folder, operations);
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    public Task<HttpResponseMessage> PostJsonAsync(string path, string json)
        => Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public Task<HttpResponseMessage> PutJsonAsync(string path, string json)
        => Client.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>Parses the body; asserts it is JSON of the expected media type.</summary>
    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, string mediaType = "application/json")
    {
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Asserts an RFC 7807 answer with this status and returns its reason.</summary>
    public static async Task<string> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await JsonAsync(response, "application/problem+json");
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        var detail = problem.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail));
        return detail!;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Anonymous.Dispose();
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
