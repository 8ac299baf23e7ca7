using System.Net;
using System.Runtime.Versioning;

namespace Portcullis.Gateway.Tests.Admin;

[SupportedOSPlatform("linux")]
public sealed class AdminPeerEndpointTests
{
    private const string Key = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";

    [Fact]
    public async Task AddPeer_NoKey_Returns201WithPeerAndClientConfig()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/v1/peers/alice", response.Headers.Location?.OriginalString);
        var added = await AdminApi.JsonAsync(response);
        Assert.Equal("alice", added.GetProperty("peer").GetProperty("name").GetString());
        Assert.Equal("10.99.0.2", added.GetProperty("peer").GetProperty("tunnel_address").GetString());
        Assert.Contains("PrivateKey", added.GetProperty("client_config").GetString(), StringComparison.Ordinal);
        Assert.Null(api.Operations.LastPeerRequest!.PublicKey);
    }

    [Fact]
    public async Task AddPeer_GivenKeyAndAddresses_PassesThemParsed()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PostJsonAsync("/api/v1/peers",
            $$"""{"name":"bob","public_key":"{{Key}}","tunnel_address":"10.99.0.9","dedicated_address":"198.51.100.11"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var request = api.Operations.LastPeerRequest!;
        Assert.Equal(Key, request.PublicKey);
        Assert.Equal(IPAddress.Parse("10.99.0.9"), request.TunnelAddress);
        Assert.Equal(IPAddress.Parse("198.51.100.11"), request.DedicatedAddress);
        var peer = (await AdminApi.JsonAsync(response)).GetProperty("peer");
        Assert.Equal("198.51.100.11", peer.GetProperty("dedicated_address").GetString());
    }

    [Fact]
    public async Task AddPeer_DedicatedAddress6_PassedParsed()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PostJsonAsync("/api/v1/peers", """{"name":"bob","dedicated_address6":"2001:db8:1::11"}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(IPAddress.Parse("2001:db8:1::11"), api.Operations.LastPeerRequest!.DedicatedAddress6);
    }

    [Theory]
    [InlineData("""{"name":"alice" """, "JSON")]
    [InlineData("""{}""", "name")]
    [InlineData("""{"name":""}""", "name")]
    [InlineData("""{"name":"al ice"}""", "name")]
    [InlineData("""{"name":"alice","public_key":"bm90IGEga2V5"}""", "public_key")]
    [InlineData("""{"name":"alice","tunnel_address":"10.1"}""", "tunnel_address")]
    [InlineData("""{"name":"alice","tunnel_address":"167772161"}""", "tunnel_address")]
    [InlineData("""{"name":"alice","dedicated_address":"example.com"}""", "dedicated_address")]
    [InlineData("""{"name":"alice","dedicated_adress":"198.51.100.11"}""", "dedicated_adress")]
    [InlineData("""{"name":"alice","dedicated_address6":"2001:db8:1::zz"}""", "dedicated_address6")]
    [InlineData("""{"name":7}""", "name")]
    [InlineData("""[1,2]""", "JSON")]
    public async Task AddPeer_BadData_Returns400WithReasonAndChangesNothing(string body, string reasonMentions)
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PostJsonAsync("/api/v1/peers", body);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(reasonMentions, reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, api.Operations.Changes);
    }

    [Fact]
    public async Task AddPeer_NotJson_Returns415()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.PostAsync("/api/v1/peers", new StringContent("name=alice"));

        await AdminApi.ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
        Assert.Equal(0, api.Operations.Changes);
    }

    [Fact]
    public async Task AddPeer_DuplicateName_Returns409()
    {
        await using var api = await AdminApi.StartAsync();
        Assert.Equal(HttpStatusCode.Created, (await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""")).StatusCode);

        var response = await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("alice", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAndListPeers_AfterAdd_ShowThePeer()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var byName = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/peers/alice"));
        var byId = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/peers/p1"));
        var list = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/peers"));

        Assert.Equal("p1", byName.GetProperty("id").GetString());
        Assert.Equal("alice", byId.GetProperty("name").GetString());
        Assert.Equal(1, list.GetArrayLength());
        Assert.False(list[0].GetProperty("connected").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, list[0].GetProperty("last_handshake_utc").ValueKind);
    }

    [Theory]
    [InlineData("GET", "/api/v1/nothing-here")]
    [InlineData("GET", "/api/v1/peers/nobody")]
    [InlineData("DELETE", "/api/v1/peers/nobody")]
    [InlineData("POST", "/api/v1/peers/nobody/enable")]
    [InlineData("POST", "/api/v1/peers/nobody/disable")]
    public async Task Request_UnknownPeerOrEndpoint_Returns404WithReason(string method, string path)
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains(path.Contains("nobody", StringComparison.Ordinal) ? "nobody" : "/api/v1", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovePeer_Existing_Returns204ThenIsGone()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var response = await api.Client.DeleteAsync("/api/v1/peers/alice");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await AdminApi.ProblemAsync(await api.Client.GetAsync("/api/v1/peers/alice"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DisableThenEnable_Existing_ReturnsThePeerInItsNewState()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var disabled = await AdminApi.JsonAsync(await api.Client.PostAsync("/api/v1/peers/alice/disable", null));
        var enabled = await AdminApi.JsonAsync(await api.Client.PostAsync("/api/v1/peers/p1/enable", null));

        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
    }

    [Fact]
    public async Task ListAndShowPeers_StoreAway_AnswerWithTheLastKnownHeaderInOneAsciiLine()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        var fresh = await api.Client.GetAsync("/api/v1/peers");
        api.Operations.LastKnownOnly = "The fleet's database is away (connection refused\n\u00e9); peers as gateway a last knew them.";

        var list = await api.Client.GetAsync("/api/v1/peers");
        var show = await api.Client.GetAsync("/api/v1/peers/alice");

        Assert.False(fresh.Headers.Contains("Portcullis-Last-Known"));
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Equal("The fleet's database is away (connection refused??); peers as gateway a last knew them.",
            Assert.Single(list.Headers.GetValues("Portcullis-Last-Known")));
        Assert.Equal(HttpStatusCode.OK, show.StatusCode);
        Assert.True(show.Headers.Contains("Portcullis-Last-Known"));
    }
}
