using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Admin;

[SupportedOSPlatform("linux")]
public sealed class AdminForwardEndpointTests
{
    [Fact]
    public async Task AddForward_Both_Returns201WithTcpAndUdp()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var response = await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"both","external_port":30000,"internal_port":8080}""");

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var forwards = await AdminApi.JsonAsync(response);
        Assert.Equal(2, forwards.GetArrayLength());
        Assert.Equal("tcp", forwards[0].GetProperty("protocol").GetString());
        Assert.Equal("udp", forwards[1].GetProperty("protocol").GetString());
        Assert.Equal(8080, forwards[0].GetProperty("internal_port").GetInt32());
        Assert.Equal("198.51.100.10", forwards[0].GetProperty("public_address").GetString());
        Assert.Equal(ForwardProtocol.Both, api.Operations.LastForwardRequest!.Protocol);
    }

    [Theory]
    [InlineData("""{"peer":"alice","protocol":"tcp","external_port":70000}""", "external_port")]
    [InlineData("""{"peer":"alice","protocol":"tcp","external_port":0}""", "external_port")]
    [InlineData("""{"peer":"alice","protocol":"tcp","external_port":30000,"internal_port":-1}""", "internal_port")]
    [InlineData("""{"peer":"alice","protocol":"sctp","external_port":30000}""", "protocol")]
    [InlineData("""{"peer":"alice","protocol":"tcp","external_port":"30000"}""", "external_port")]
    [InlineData("""{"peer":"alice","protocol":"tcp","external_port":30000,"public_address":"1.2.3"}""", "public_address")]
    [InlineData("""{"peer":"alice","external_port":30000}""", "protocol")]
    public async Task AddForward_BadData_Returns400WithReasonAndChangesNothing(string body, string reasonMentions)
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        var changes = api.Operations.Changes;

        var response = await api.PostJsonAsync("/api/v1/forwards", body);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(reasonMentions, reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(changes, api.Operations.Changes);
    }

    [Theory]
    [InlineData("kernel", "Kernel refused the change")]
    [InlineData("store", "Store unavailable")]
    public async Task AddForward_KernelOrStoreRefuses_Returns503WithTheReason(string what, string title)
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        const string Reason = "could not update the forwarding map: Error: Could not process rule: Device or resource busy";
        api.Operations.ForwardFailure = what == "kernel"
            ? new Portcullis.Gateway.Forwarding.ForwardingTableException(Reason)
            : new Portcullis.Gateway.Store.StoreException(Reason);

        var response = await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"tcp","external_port":30000}""");

        Assert.Equal(Reason, await AdminApi.ProblemAsync(response, HttpStatusCode.ServiceUnavailable));
        var problem = await AdminApi.JsonAsync(response, "application/problem+json");
        Assert.Equal(title, problem.GetProperty("title").GetString());
    }

    [Fact]
    public async Task AddForward_UnknownPeer_Returns404()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PostJsonAsync("/api/v1/forwards", """{"peer":"nobody","protocol":"tcp","external_port":30000}""");

        await AdminApi.ProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AddForward_Duplicate_Returns409()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"tcp","external_port":30000}""");

        var response = await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"both","external_port":30000}""");

        await AdminApi.ProblemAsync(response, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task RemoveForward_Existing_Returns204AndListIsEmpty()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"udp","external_port":30000}""");

        var response = await api.Client.DeleteAsync("/api/v1/forwards/198.51.100.10/udp/30000");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, (await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/forwards"))).GetArrayLength());
        await AdminApi.ProblemAsync(await api.Client.DeleteAsync("/api/v1/forwards/198.51.100.10/udp/30000"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Forward_Ipv6PublicAddress_AddedListedAndRemovedByItsKey()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");

        var added = await api.PostJsonAsync("/api/v1/forwards", """{"peer":"alice","protocol":"tcp","external_port":30000,"public_address":"2001:db8:1::a"}""");

        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        Assert.Equal(IPAddress.Parse("2001:db8:1::a"), api.Operations.LastForwardRequest!.PublicAddress);
        var listed = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/forwards"));
        Assert.Equal("2001:db8:1::a", listed[0].GetProperty("public_address").GetString());
        var removed = await api.Client.DeleteAsync("/api/v1/forwards/2001:db8:1::a/tcp/30000");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(0, (await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/forwards"))).GetArrayLength());
    }

    [Theory]
    [InlineData("/api/v1/forwards/198.51.100.10/tcp/70000", "port")]
    [InlineData("/api/v1/forwards/198.51.100.10/tcp/http", "port")]
    [InlineData("/api/v1/forwards/198.51.100.10/sctp/30000", "protocol")]
    [InlineData("/api/v1/forwards/198.51.100.10/both/30000", "protocol")]
    [InlineData("/api/v1/forwards/not-an-address/tcp/30000", "address")]
    [InlineData("/api/v1/mappings/198.51.100.10/tcp/0", "port")]
    [InlineData("/api/v1/mappings/198.51.100/tcp/30000", "address")]
    public async Task DeleteByKey_BadRoute_Returns400WithReason(string path, string reasonMentions)
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.DeleteAsync(path);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(reasonMentions, reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, api.Operations.Changes);
    }

    [Fact]
    public async Task Mappings_ListThenRevoke_ShowsPeerNameAndRemoves()
    {
        await using var api = await AdminApi.StartAsync();
        await api.PostJsonAsync("/api/v1/peers", """{"name":"alice"}""");
        api.Operations.AddMapping(new ActiveMapping("p1", IPAddress.Parse("10.99.0.2"), MappingProtocol.Tcp, 51413,
            IPAddress.Parse("198.51.100.10"), 41234, TimeSpan.FromSeconds(3600), DateTimeOffset.UnixEpoch.AddDays(1), HasNonce: true));

        var list = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/mappings"));
        var revoked = await api.Client.DeleteAsync("/api/v1/mappings/198.51.100.10/tcp/41234");
        var again = await api.Client.DeleteAsync("/api/v1/mappings/198.51.100.10/tcp/41234");

        Assert.Equal("alice", list[0].GetProperty("peer_name").GetString());
        Assert.Equal(41234, list[0].GetProperty("public_port").GetInt32());
        Assert.Equal(3600, list[0].GetProperty("lifetime_seconds").GetInt64());
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await AdminApi.ProblemAsync(again, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Policy_PutThenGet_OverridesInForce()
    {
        await using var api = await AdminApi.StartAsync();

        var put = await api.PutJsonAsync("/api/v1/policy",
            """{"forwarding_enabled":false,"port_range":{"first":30000,"last":30999},"max_per_peer":2,"forward_all_dedicated_ports":true}""");
        var policy = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/policy"));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var effective = policy.GetProperty("effective");
        Assert.False(effective.GetProperty("enabled").GetBoolean());
        Assert.Equal(30000, effective.GetProperty("port_range").GetProperty("first").GetInt32());
        Assert.Equal(2, effective.GetProperty("max_per_peer").GetInt32());
        Assert.True(effective.GetProperty("forward_all_dedicated_ports").GetBoolean());
        Assert.True(policy.GetProperty("overrides").GetProperty("forward_all_dedicated_ports").GetBoolean());
        Assert.Equal(new ForwardingPolicy().MaxLifetime.TotalSeconds, effective.GetProperty("max_lifetime_seconds").GetInt64());
    }

    [Fact]
    public async Task Policy_MaxFiltersPerMapping_PutThenGet_OverrideAndEffective()
    {
        await using var api = await AdminApi.StartAsync();

        var put = await api.PutJsonAsync("/api/v1/policy", """{"max_filters_per_mapping":3}""");
        var policy = await AdminApi.JsonAsync(await api.Client.GetAsync("/api/v1/policy"));

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(3, policy.GetProperty("effective").GetProperty("max_filters_per_mapping").GetInt32());
        Assert.Equal(3, policy.GetProperty("overrides").GetProperty("max_filters_per_mapping").GetInt32());
    }

    [Theory]
    [InlineData("""{"port_range":{"first":40000,"last":30000}}""", "port_range")]
    [InlineData("""{"port_range":{"first":0,"last":30000}}""", "port_range.first")]
    [InlineData("""{"max_per_peer":-1}""", "max_per_peer")]
    [InlineData("""{"max_filters_per_mapping":-1}""", "max_filters_per_mapping")]
    [InlineData("""{"max_filters_per_mapping":44}""", "max_filters_per_mapping")]
    [InlineData("""{"forwarding_enabled":"yes"}""", "forwarding_enabled")]
    public async Task Policy_BadData_Returns400(string body, string reasonMentions)
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.PutJsonAsync("/api/v1/policy", body);

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(reasonMentions, reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, api.Operations.Changes);
    }
}
