using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Portcullis.Client.Applications;

/// <summary>
/// Transmission's RPC (the URL ends in /transmission/rpc):
///   1. POST {"method":"session-set","arguments":{"peer-port":N}} with the last X-Transmission-Session-Id;
///   2. a 409 carries the current session id (CSRF protection): remember it and send once more;
///   3. the answer's "result" must be "success".
/// HTTP Basic authentication when a user is given.
/// </summary>
public sealed class TransmissionUpdater : IPortPublisher
{
    private const string SessionHeader = "X-Transmission-Session-Id";
    private readonly Uri _url;
    private readonly AuthenticationHeaderValue? _authorization;
    private readonly HttpClient _http;
    private string? _sessionId;

    public TransmissionUpdater(ApplicationEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        _url = endpoint.Url;
        if (endpoint.LoadCredentials() is { } credentials)
        {
            var pair = Encoding.UTF8.GetBytes(credentials.UserName + ":" + credentials.Password);
            _authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(pair));
        }
        _http = ApplicationHttp.Create(cookies: null);
    }

    public string Name => "Transmission";

    public async Task SetPortAsync(ushort port, CancellationToken cancellationToken)
    {
        var body = "{\"method\":\"session-set\",\"arguments\":{\"peer-port\":" + port.ToString(CultureInfo.InvariantCulture) + "}}";
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, _url)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            };
            request.Headers.Authorization = _authorization;
            if (Volatile.Read(ref _sessionId) is { } id)
                request.Headers.TryAddWithoutValidation(SessionHeader, id);
            using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Conflict && attempt == 0
                && response.Headers.TryGetValues(SessionHeader, out var ids) && ids.FirstOrDefault() is { Length: > 0 } fresh)
            {
                Volatile.Write(ref _sessionId, fresh);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                var message = _authorization is null
                    ? "the RPC wants a login (401): pass --transmission-user and --transmission-password-file"
                    : "the RPC refused the user and password (401)";
                throw new PortPublishException(message) { Retry = false };
            }
            if (!response.IsSuccessStatusCode)
                throw new PortPublishException($"session-set answered {(int)response.StatusCode} {response.ReasonPhrase}");
            var result = ReadResult(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            if (result != "success")
                throw new PortPublishException($"session-set answered \"{result}\"");
            return;
        }
    }

    /// <summary>The "result" member of an RPC answer, or a description of what came instead.</summary>
    internal static string ReadResult(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("result", out var result) && result.ValueKind == JsonValueKind.String
                ? result.GetString() ?? "(null)"
                : "an answer without a result";
        }
        catch (JsonException)
        {
            return "an answer that is not JSON";
        }
    }

    public void Dispose() => _http.Dispose();
}
