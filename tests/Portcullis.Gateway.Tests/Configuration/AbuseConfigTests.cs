using System.Runtime.Versioning;
using Portcullis.Gateway.Configuration;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using static Portcullis.Gateway.Tests.Configuration.ConfigText;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>[forwarding] inbound_new_per_second, inbound_max_connections and audit_retention: defaults, values, errors by line.</summary>
[SupportedOSPlatform("linux")]
public sealed class AbuseConfigTests
{
    private const string File = "/etc/portcullis/gw.toml";

    [Fact]
    public void Parse_KeysLeftOut_NoLimitsAndSevenDaysRetention()
    {
        var policy = GatewayConfigLoader.Parse(Minimal(NewKey()), File).Forwarding;

        Assert.Equal(InboundLimits.None, policy.InboundLimits);
        Assert.Equal(TimeSpan.FromDays(7), policy.AuditRetention);
    }

    [Fact]
    public void Parse_KeysGiven_InThePolicy()
    {
        var text = Minimal(NewKey(), "[forwarding]\ninbound_new_per_second = 50\ninbound_max_connections = 200\naudit_log = true\naudit_retention = 86400\n");

        var policy = GatewayConfigLoader.Parse(text, File).Forwarding;

        Assert.Equal(new InboundLimits(50, 200), policy.InboundLimits);
        Assert.True(policy.AuditLog);
        Assert.Equal(TimeSpan.FromDays(1), policy.AuditRetention);
    }

    [Theory]
    [InlineData("inbound_new_per_second = -1", "inbound_new_per_second: expected an integer from 0 to 1000000")]
    [InlineData("inbound_max_connections = 1000001", "inbound_max_connections: expected an integer from 0 to 1000000")]
    [InlineData("inbound_max_connections = \"many\"", "inbound_max_connections: expected an integer")]
    [InlineData("audit_retention = 0", "audit_retention: expected an integer from 1 to 315360000")]
    public void Parse_BadValue_NamesFileLineAndKey(string line, string message)
    {
        var text = Minimal(NewKey(), $"[forwarding]\nenabled = true\n{line}\n");

        var error = Assert.Throws<GatewayConfigException>(() => GatewayConfigLoader.Parse(text, File));

        Assert.Equal([$"{File}:10: [forwarding] {message}"], error.Errors);
    }
}
