using System.Net;
using System.Runtime.Versioning;
using System.Text;
using System.Text.RegularExpressions;

namespace Portcullis.Gateway.Tests.Admin;

/// <summary>The web console's login, cookie and CSRF rules over a real admin server (the browser test is in the lab).</summary>
[SupportedOSPlatform("linux")]
public sealed partial class ConsoleSessionTests
{
    [Fact]
    public async Task Login_RightToken_SetsAnHttpOnlyStrictCookieAndThePageCarriesACsrfToken()
    {
        await using var api = await AdminApi.StartAsync();
        using var browser = Browser(api);

        var login = await browser.PostAsync("/login", Form(AdminApi.Token));

        Assert.Equal(HttpStatusCode.SeeOther, login.StatusCode);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.Contains("portcullis_session=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(AdminApi.Token, cookie, StringComparison.Ordinal);
        var page = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Matches(CsrfMeta(), await page.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Login_WrongToken_401AndNoCookie()
    {
        await using var api = await AdminApi.StartAsync();
        using var browser = Browser(api);

        var login = await browser.PostAsync("/login", Form("wrong-token-but-long-enough"));

        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.False(login.Headers.Contains("Set-Cookie"));
        Assert.Contains("not this gateway", await login.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task Session_ReadsFreely_ChangesOnlyWithItsCsrfTokenAndFromItsOrigin()
    {
        await using var api = await AdminApi.StartAsync();
        using var browser = Browser(api);
        await browser.PostAsync("/login", Form(AdminApi.Token));
        var csrf = CsrfMeta().Match(await browser.GetStringAsync("/")).Groups[1].Value;
        var body = () => new StringContent("""{"name":"alice"}""", Encoding.UTF8, "application/json");

        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/peers")).StatusCode);
        await AdminApi.ProblemAsync(await browser.PostAsync("/api/v1/peers", body()), HttpStatusCode.Forbidden);
        using (var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/v1/peers") { Content = body() })
        {
            wrong.Headers.Add("X-CSRF-Token", csrf + "x");
            await AdminApi.ProblemAsync(await browser.SendAsync(wrong), HttpStatusCode.Forbidden);
        }
        using (var foreign = new HttpRequestMessage(HttpMethod.Post, "/api/v1/peers") { Content = body() })
        {
            foreign.Headers.Add("X-CSRF-Token", csrf);
            foreign.Headers.Add("Origin", "http://evil.example");
            await AdminApi.ProblemAsync(await browser.SendAsync(foreign), HttpStatusCode.Forbidden);
        }
        Assert.Equal(0, api.Operations.Changes);
        using (var right = new HttpRequestMessage(HttpMethod.Post, "/api/v1/peers") { Content = body() })
        {
            right.Headers.Add("X-CSRF-Token", csrf);
            Assert.Equal(HttpStatusCode.Created, (await browser.SendAsync(right)).StatusCode);
        }

        // Logout ends the session for the API too.
        Assert.Equal(HttpStatusCode.SeeOther, (await browser.PostAsync("/logout", new FormUrlEncodedContent([new("csrf", csrf)]))).StatusCode);
        await AdminApi.ProblemAsync(await browser.GetAsync("/api/v1/peers"), HttpStatusCode.Unauthorized);
    }

    private static HttpClient Browser(AdminApi api) => new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = true })
    {
        BaseAddress = api.Client.BaseAddress,
    };

    private static FormUrlEncodedContent Form(string token) => new([new("token", token)]);

    [GeneratedRegex("""<meta name="csrf-token" content="([A-Za-z0-9_-]{20,})">""")]
    private static partial Regex CsrfMeta();
}
