using Portcullis.Gateway.Admin;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Tests.Hosting;

/// <summary>
/// Inbound limits set over the admin API: the kernel gets them before the store does, a kernel refusal stores nothing,
/// a store refusal puts the kernel's previous limits back, and "default" returns to the file's values.
/// </summary>
public sealed class InboundLimitPolicyTests
{
    private static readonly ForwardingPolicy File = new() { InboundNewPerSecond = 100 };

    [Fact]
    public async Task SetPolicyAsync_Limits_KernelGetsThemStoredAndInForceAndDefaultRestoresTheFiles()
    {
        var applied = new List<InboundLimits>();
        await using var f = await OperationsFixture.CreateAsync(File, applied.Add);

        var view = await f.Operations.SetPolicyAsync(new ServerPolicy { InboundNewPerSecond = 5, InboundMaxConnections = 50 });

        Assert.Equal([new InboundLimits(5, 50)], applied);
        Assert.Equal(new InboundLimits(5, 50), view.Effective!.InboundLimits);
        Assert.Equal(new InboundLimits(5, 50), f.Service.Policy.InboundLimits);
        var stored = await f.Store.GetPolicyAsync();
        Assert.Equal((5, 50), (stored.InboundNewPerSecond, stored.InboundMaxConnections));

        await f.Operations.SetPolicyAsync(new ServerPolicy());

        Assert.Equal(new InboundLimits(100, 0), applied[^1]);
        Assert.Equal(new InboundLimits(100, 0), f.Service.Policy.InboundLimits);
        // Setting what is in force already does not touch the kernel.
        await f.Operations.SetPolicyAsync(new ServerPolicy { MaxPerPeer = 3 });
        Assert.Equal(2, applied.Count);
    }

    [Fact]
    public async Task SetPolicyAsync_KernelRefuses_NothingStoredOrChanged()
    {
        await using var f = await OperationsFixture.CreateAsync(File, _ => throw new ForwardingTableException("could not set the inbound limits: busy"));

        await Assert.ThrowsAsync<ForwardingTableException>(() => f.Operations.SetPolicyAsync(new ServerPolicy { InboundMaxConnections = 9 }));

        Assert.Null((await f.Store.GetPolicyAsync()).InboundMaxConnections);
        Assert.Equal(File.InboundLimits, f.Service.Policy.InboundLimits);
    }

    [Fact]
    public async Task SetPolicyAsync_StoreRefuses_KernelGetsThePreviousLimitsBack()
    {
        var applied = new List<InboundLimits>();
        await using var f = await OperationsFixture.CreateAsync(File, applied.Add);
        await f.Store.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => f.Operations.SetPolicyAsync(new ServerPolicy { InboundNewPerSecond = 7 }));

        Assert.Equal([new InboundLimits(7, 0), File.InboundLimits], applied);
        Assert.Equal(File.InboundLimits, f.Service.Policy.InboundLimits);
    }

    [Theory]
    [InlineData(-1, null)]
    [InlineData(null, -1)]
    [InlineData(InboundLimits.Max + 1, null)]
    public async Task SetPolicyAsync_OutOfRange_RejectedBeforeTheKernel(int? rate, int? connections)
    {
        var applied = new List<InboundLimits>();
        await using var f = await OperationsFixture.CreateAsync(File, applied.Add);

        await Assert.ThrowsAsync<AdminRequestException>(() =>
            f.Operations.SetPolicyAsync(new ServerPolicy { InboundNewPerSecond = rate, InboundMaxConnections = connections }));

        Assert.Empty(applied);
    }
}
