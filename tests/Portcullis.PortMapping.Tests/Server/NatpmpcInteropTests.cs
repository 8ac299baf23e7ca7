using System.Net;
using Portcullis.PortMapping.Server;
using Portcullis.PortMapping.Tests.Support;
using Portcullis.Testing;

namespace Portcullis.PortMapping.Tests.Server;

// The real client: Debian's natpmpc (libnatpmp) against our server on 10.99.0.1:5351, from 10.99.0.2, each in a
// network namespace of its own. Needs root and natpmpc (apt-get install -y natpmpc).
public sealed class NatpmpcInteropTests
{
    private static readonly IPAddress Client = IPAddress.Parse(TunnelLab.ClientAddress);

    private readonly AuthorityDouble _authority = new();

    private async Task<PortMappingServer> StartAsync(TunnelLab lab)
    {
        var server = new PortMappingServer(_authority, new PortMappingServerOptions { ListenAddress = IPAddress.Parse(TunnelLab.GatewayAddress) });
        try
        {
            lab.InGateway(() => server.StartAsync().GetAwaiter().GetResult());
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    [Fact]
    public async Task Natpmpc_MapAnyPortTcp60_PrintsSuccessMapping()
    {
        using var lab = new TunnelLab();
        await using var server = await StartAsync(lab);

        var (exitCode, output) = lab.Natpmpc("-a", "0", "0", "tcp", "60");

        Assert.True(exitCode == 0, output);
        Assert.Contains("Public IP address : 198.51.100.10", output, StringComparison.OrdinalIgnoreCase);
        Assert.True(output.Contains("Mapped public port 40000 protocol TCP to local port 0 liftime 60", StringComparison.Ordinal), output);
        var call = Assert.Single(_authority.MapCalls);
        Assert.Equal(Client, call.Client);
        Assert.Equal(MappingProtocol.Tcp, call.Protocol);
        Assert.Equal(TimeSpan.FromSeconds(60), call.Lifetime);
    }

    [Fact]
    public async Task Natpmpc_MapUdpPortWithSuggestion_SuggestionPassedAndRefreshKeepsPort()
    {
        using var lab = new TunnelLab();
        await using var server = await StartAsync(lab);

        var first = lab.Natpmpc("-a", "45000", "8080", "udp", "3600");
        var again = lab.Natpmpc("-a", "45000", "8080", "udp", "3600");

        Assert.True(first.ExitCode == 0, first.Output);
        Assert.True(first.Output.Contains("Mapped public port 40000 protocol UDP to local port 8080 liftime 3600", StringComparison.Ordinal), first.Output);
        Assert.True(again.Output.Contains("Mapped public port 40000 protocol UDP to local port 8080 liftime 3600", StringComparison.Ordinal), again.Output);
        Assert.All(_authority.MapCalls, c => Assert.Equal(45000, c.SuggestedExternalPort));
        Assert.Equal(1, _authority.Count);
    }

    [Fact]
    public async Task Natpmpc_DeleteAll_ZeroPrivatePortAndLifetime()
    {
        using var lab = new TunnelLab();
        await using var server = await StartAsync(lab);
        lab.Natpmpc("-a", "0", "8080", "tcp", "60");

        var (exitCode, output) = lab.Natpmpc("-a", "0", "0", "tcp", "0");

        Assert.True(exitCode == 0, output);
        Assert.Equal((Client, MappingProtocol.Tcp), Assert.Single(_authority.DeleteAllCalls));
        Assert.Equal(0, _authority.Count);
    }

    [Fact]
    public async Task Natpmpc_RefusingPolicy_ReportsTheError()
    {
        using var lab = new TunnelLab();
        await using var server = await StartAsync(lab);
        _authority.Enabled = false;

        var (exitCode, output) = lab.Natpmpc("-a", "0", "0", "tcp", "60");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("not authorized", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Mapped public port", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Natpmpc_QuotaReached_ReportsOutOfResources()
    {
        using var lab = new TunnelLab();
        await using var server = await StartAsync(lab);
        _authority.Quota = 0;

        var (exitCode, output) = lab.Natpmpc("-a", "0", "8080", "tcp", "60");

        Assert.NotEqual(0, exitCode);
        Assert.Contains("out of resources", output, StringComparison.OrdinalIgnoreCase);
    }
}
