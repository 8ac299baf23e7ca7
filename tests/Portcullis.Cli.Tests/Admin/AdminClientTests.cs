using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Portcullis.Cli.Admin;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Tests.Admin;

/// <summary>The CLI's client against a loopback server with canned answers: what it sends, and the reasons it gives.</summary>
public sealed class AdminClientTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("portcullis-client-").FullName;
    private WebApplication _server = null!;
    private Uri _address = null!;
    private string? _authorization;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Services.AddRouting();
        _server = builder.Build();
        _server.UseRouting();
        _server.MapGet("/api/v1/status", (HttpContext context) =>
        {
            _authorization = context.Request.Headers.Authorization.ToString();
            return Results.Text("""{"interface":"pc0","public_key":"K","listen_port":51820,"public_addresses":["198.51.100.10"],"peers":1,"connected_peers":0,"dynamic_mappings":0,"live_static_forwards":0,"epoch_seconds":7,"started_utc":"2026-01-01T00:00:00Z","version":"1","added_later":true}""", "application/json");
        });
        _server.MapGet("/api/v1/peers/{name}", (string name) =>
            Results.Problem(detail: $"No peer has the id or name \"{name}\".", statusCode: 404, title: "Not found"));
        _server.MapGet("/api/v1/plain", () => Results.Text("upstream broke", "text/plain", Encoding.UTF8, 502));
        await _server.StartAsync();
        _address = new Uri(_server.Urls.First());
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task GetAsync_Answer_SendsTheTrimmedTokenAndIgnoresFieldsItDoesNotKnow()
    {
        using var client = AdminClient.Create(new ApiTarget(_address, Token("s3cret-token-value\n")));

        var status = await client.GetAsync<StatusModel>("api/v1/status", CancellationToken.None);

        Assert.Equal("Bearer s3cret-token-value", _authorization);
        Assert.Equal("pc0", status.Value.Interface);
        Assert.Equal(7, status.Value.EpochSeconds);
        Assert.Contains("\"added_later\"", status.Json, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_Problem_ReasonIsStatusAndDetail()
    {
        using var client = AdminClient.Create(new ApiTarget(_address, Token("t")));

        var error = await Assert.ThrowsAsync<AdminCliException>(() => client.GetAsync<PeerModel>("api/v1/peers/nobody", CancellationToken.None));

        Assert.Equal("404 Not Found: No peer has the id or name \"nobody\".", error.Message);
        Assert.Equal(404, error.Status);
    }

    [Fact]
    public async Task GetAsync_NotProblemJson_ReasonIsTheStatus()
    {
        using var client = AdminClient.Create(new ApiTarget(_address, Token("t")));

        var error = await Assert.ThrowsAsync<AdminCliException>(() => client.GetAsync<PeerModel>("api/v1/plain", CancellationToken.None));

        Assert.StartsWith("502", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_NothingListening_SaysUnreachableWithStatusZero()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var closedPort = ((IPEndPoint)socket.LocalEndPoint!).Port; // bound, never listening: connections are refused
        using var client = AdminClient.Create(new ApiTarget(new Uri($"http://127.0.0.1:{closedPort}"), Token("t")));

        var error = await Assert.ThrowsAsync<AdminCliException>(() => client.GetAsync<StatusModel>("api/v1/status", CancellationToken.None));

        Assert.Contains("cannot reach", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, error.Status);
    }

    [Fact]
    public void Create_TokenFileMissing_NamesTheFile()
    {
        var path = Path.Combine(_folder, "missing.token");

        var error = Assert.Throws<AdminCliException>(() => AdminClient.Create(new ApiTarget(_address, path)));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TokenFileEmpty_Refused()
    {
        var error = Assert.Throws<AdminCliException>(() => AdminClient.Create(new ApiTarget(_address, Token("  \n"))));

        Assert.Contains("empty", error.Message, StringComparison.Ordinal);
    }

    private string Token(string content)
    {
        var path = Path.Combine(_folder, $"{Guid.NewGuid():N}.token");
        File.WriteAllText(path, content);
        return path;
    }
}
