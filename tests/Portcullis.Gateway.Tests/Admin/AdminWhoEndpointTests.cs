using System.Net;
using System.Runtime.Versioning;
using Portcullis.Gateway.Store;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Admin;

/// <summary>GET /api/v1/mappings/who?public=ADDRESS:PORT&amp;at=TIME: the audit trail's answer, its refusal, its 400s.</summary>
[SupportedOSPlatform("linux")]
public sealed class AdminWhoEndpointTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 14, 0, 0, TimeSpan.Zero);

    private static AuditRecord Record(string peer, DateTimeOffset from, DateTimeOffset? until) => new(
        IPAddress.Parse("198.51.100.10"), MappingProtocol.Tcp, 31337, IPAddress.Parse("10.99.0.2"), 8080, peer + "-id", peer, "", from, until);

    [Fact]
    public async Task Who_AuditOn_ReturnsTheHolderAtThatTime()
    {
        await using var api = await AdminApi.StartAsync();
        api.Operations.Audit = [Record("alice", T0, T0.AddHours(1)), Record("bob", T0.AddHours(2), null)];

        var response = await api.Client.GetAsync(new Uri("/api/v1/mappings/who?public=198.51.100.10:31337&at=2026-12-07T14:30:00Z", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var holders = await AdminApi.JsonAsync(response);
        var holder = Assert.Single(holders.EnumerateArray());
        Assert.Equal("alice", holder.GetProperty("peer_name").GetString());
        Assert.Equal("10.99.0.2", holder.GetProperty("tunnel_address").GetString());
        Assert.Equal(T0.AddHours(1), holder.GetProperty("ended_utc").GetDateTimeOffset());
        // An offset is honoured: 15:30+01:00 is 14:30 UTC.
        var shifted = await api.Client.GetAsync(new Uri("/api/v1/mappings/who?public=198.51.100.10:31337&at=2026-12-07T15:30:00%2B01:00", UriKind.Relative));
        Assert.Equal("alice", Assert.Single((await AdminApi.JsonAsync(shifted)).EnumerateArray()).GetProperty("peer_name").GetString());
        // Between holders: nobody.
        var gap = await api.Client.GetAsync(new Uri("/api/v1/mappings/who?public=198.51.100.10:31337&at=2026-12-07T15:30:00Z", UriKind.Relative));
        Assert.Equal(0, (await AdminApi.JsonAsync(gap)).GetArrayLength());
    }

    [Fact]
    public async Task Who_AuditOff_Returns409WithTheReason()
    {
        await using var api = await AdminApi.StartAsync();

        var response = await api.Client.GetAsync(new Uri("/api/v1/mappings/who?public=198.51.100.10:31337&at=2026-12-07T14:30:00Z", UriKind.Relative));

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("Auditing is off", reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("at=2026-12-07T14:30:00Z", "public")]
    [InlineData("public=198.51.100.10&at=2026-12-07T14:30:00Z", "public")]
    [InlineData("public=198.51.100.10:0&at=2026-12-07T14:30:00Z", "public")]
    [InlineData("public=198.51.100.10:70000&at=2026-12-07T14:30:00Z", "public")]
    [InlineData("public=host.example:80&at=2026-12-07T14:30:00Z", "public")]
    [InlineData("public=198.51.100.10:31337", "at")]
    [InlineData("public=198.51.100.10:31337&at=yesterday", "at")]
    [InlineData("public=198.51.100.10:31337&at=12", "at")]
    public async Task Who_BadInput_Returns400NamingTheParameter(string query, string field)
    {
        await using var api = await AdminApi.StartAsync();
        api.Operations.Audit = [Record("alice", T0, null)];

        var response = await api.Client.GetAsync(new Uri("/api/v1/mappings/who?" + query, UriKind.Relative));

        var reason = await AdminApi.ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith(field + ":", reason, StringComparison.Ordinal);
    }
}
