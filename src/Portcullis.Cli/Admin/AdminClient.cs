using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Portcullis.Gateway.Admin.Http;

namespace Portcullis.Cli.Admin;

/// <summary>
/// The CLI's side of the admin API. Every failure becomes an <see cref="AdminCliException"/> whose message is the
/// reason to print: unreachable, no token, the problem+json detail of a 4xx/5xx.
/// </summary>
internal sealed class AdminClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly HttpClient _http;

    private AdminClient(HttpClient http, Uri baseAddress)
    {
        _http = http;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Reads the token (never printed) and prepares the client; throws <see cref="AdminCliException"/>.</summary>
    public static AdminClient Create(ApiTarget target, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        string token;
        try
        {
            token = File.ReadAllText(target.TokenFile).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AdminCliException(
                $"cannot read the admin token file {target.TokenFile}: {e.Message} (run as the gateway's user, or give --token-file)");
        }
        if (token.Length == 0)
            throw new AdminCliException($"the admin token file {target.TokenFile} is empty");
        var baseAddress = target.BaseAddress.AbsoluteUri.EndsWith('/') ? target.BaseAddress : new Uri(target.BaseAddress.AbsoluteUri + "/");
        var http = new HttpClient { BaseAddress = baseAddress, Timeout = timeout ?? Timeout };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return new AdminClient(http, target.BaseAddress);
    }

    public async Task<Answer<T>> GetAsync<T>(string path, CancellationToken cancellationToken)
        => await SendAsync<T>(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false);

    public async Task<Answer<T>> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, body, cancellationToken).ConfigureAwait(false);
        var json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var value = JsonSerializer.Deserialize<T>(json, AdminJson.Client)
                ?? throw new AdminCliException($"the gateway answered {path} with null");
            return new Answer<T>(value, json);
        }
        catch (JsonException e)
        {
            throw new AdminCliException($"the gateway's answer to {path} is not what this CLI understands: {e.Message}");
        }
    }

    /// <summary>A request whose answer has no body (204).</summary>
    public async Task SendAsync(HttpMethod method, string path, CancellationToken cancellationToken)
    {
        using var response = await SendCoreAsync(method, path, null, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    private async Task<HttpResponseMessage> SendCoreAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
            request.Content = JsonContent.Create(body, body.GetType(), options: AdminJson.Client);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is SocketException socket ? socket.Message : e.Message;
            throw new AdminCliException($"cannot reach the gateway's admin API at {BaseAddress}: {reason}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AdminCliException($"the gateway's admin API at {BaseAddress} did not answer within {_http.Timeout.TotalSeconds:0} s", e);
        }
        if (response.IsSuccessStatusCode)
        {
            if (response.Headers.TryGetValues(AdminHeaders.LastKnown, out var lastKnown))
                await Console.Error.WriteLineAsync($"portcullis: {string.Join(' ', lastKnown)}").ConfigureAwait(false);
            return response;
        }
        using (response)
            throw new AdminCliException(await ReasonAsync(response, cancellationToken).ConfigureAwait(false), (int)response.StatusCode);
    }

    private static async Task<string> ReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = $"{(int)response.StatusCode} {ReasonPhrase(response.StatusCode)}";
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.ValueKind == JsonValueKind.Object
                && problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } reason)
                return $"{status}: {reason}";
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy in between?): the status line is all there is.
        }
        return status;
    }

    private static string ReasonPhrase(HttpStatusCode code) => code switch
    {
        HttpStatusCode.BadRequest => "Bad Request",
        HttpStatusCode.Unauthorized => "Unauthorized",
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.Conflict => "Conflict",
        _ => code.ToString(),
    };
}

/// <summary>A decoded answer and the JSON it came from (what --json prints).</summary>
internal sealed record Answer<T>(T Value, string Json);

/// <summary>What went wrong talking to the API; the message is printed as it is.</summary>
internal sealed class AdminCliException : Exception
{
    public AdminCliException() { }
    public AdminCliException(string message) : base(message) { }
    public AdminCliException(string message, Exception inner) : base(message, inner) { }
    public AdminCliException(string message, int status) : base(message) => Status = status;

    /// <summary>The HTTP status when the gateway answered; 0 when it could not be reached.</summary>
    public int Status { get; }
}
