using System.Net;
using System.Runtime.Versioning;

namespace Portcullis.Gateway.Tests.Admin;

/// <summary>?offset=&amp;limit= on the list endpoints: pages in a stable order, the total in X-Total-Count, 400 for nonsense.</summary>
[SupportedOSPlatform("linux")]
public sealed class AdminPagingTests
{
    [Fact]
    public async Task ListPeers_PagedThroughInOrder_EveryPeerOnceAndTheTotalInTheHeader()
    {
        await using var api = await AdminApi.StartAsync();
        for (var i = 0; i < 7; i++)
            Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/api/v1/peers", $$"""{"name":"p{{i}}"}""")).StatusCode);

        var names = new List<string>();
        for (var offset = 0; offset < 9; offset += 3)
        {
            var response = await api.Client.GetAsync($"/api/v1/peers?offset={offset}&limit=3");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("7", Assert.Single(response.Headers.GetValues("X-Total-Count")));
            var page = await AdminApi.JsonAsync(response);
            Assert.InRange(page.GetArrayLength(), 0, 3);
            names.AddRange(page.EnumerateArray().Select(p => p.GetProperty("name").GetString()!));
        }

        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"p{i}"), names);
        var all = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/peers"));
        Assert.Equal(7, all.GetArrayLength()); // no parameters: everything, as before paging
        Assert.Equal(0, (await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/peers?offset=50"))).GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/peers?limit=0", "limit")]
    [InlineData("/api/v1/peers?limit=10001", "limit")]
    [InlineData("/api/v1/peers?offset=-1", "offset")]
    [InlineData("/api/v1/mappings?limit=0", "limit")]
    public async Task List_BadPage_Returns400WithReason(string path, string reasonMentions)
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.GetAsync(path);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reasonMentions, (await AdminApi.JsonAsync(response, "application/problem+json")).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
