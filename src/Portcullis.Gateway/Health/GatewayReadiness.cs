using Portcullis.Gateway.Store;
using Portcullis.Linux;
using Portcullis.Linux.Links;
using Portcullis.Linux.Nftables;

namespace Portcullis.Gateway.Health;

// Readiness, checked on every /readyz (probes come every few seconds; each check is cheap):
//  1. device: the WireGuard interface exists in our namespace and is administratively up (SIOCGIFFLAGS)
//  2. kernel: our table's prerouting chain lists (not the map: listing 100 000 elements is not cheap); with IPv6 in the
//     tunnel, the ip6 table's forward chain too (without it, nothing would hold IPv6 inbound back)
//  3. store: one small read (the policy overrides) within StoreTimeout. Its failure is "failing" for a gateway's own
//     store; for a store shared by a fleet (StoreOutageDegrades) the gateway keeps serving what it holds, so
//     "degraded".
// The first failing check wins; a degraded store is reported only when nothing fails.

/// <summary><see cref="IGatewayReadiness"/> for a running gateway host.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal sealed class GatewayReadiness(string tunnelInterface, NftContext nft, string table, IGatewayStore store, bool storeOutageDegrades,
    bool ipv6 = false)
    : IGatewayReadiness, IDisposable
{
    internal static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(2);

    public async Task<HealthReport> CheckAsync(CancellationToken cancellationToken)
    {
        if (!DeviceUp())
            return HealthReport.Failing(HealthReasons.DeviceDown);
        if (!TableInstalled())
            return HealthReport.Failing(HealthReasons.TableMissing);
        if (!await StoreAnswersAsync(cancellationToken).ConfigureAwait(false))
        {
            return storeOutageDegrades
                ? HealthReport.Degraded(HealthReasons.StoreUnreachable)
                : HealthReport.Failing(HealthReasons.StoreUnreachable);
        }
        return HealthReport.Ok;
    }

    // Asked of the kernel in the calling thread's namespace; the gateway runs wholly in one.
    private bool DeviceUp()
    {
        try
        {
            return Link.IsUp(tunnelInterface);
        }
        catch (LinuxCallException)
        {
            return false;
        }
    }

    private bool TableInstalled()
    {
        try
        {
            nft.Run($"list chain ip {table} prerouting");
            if (ipv6)
                nft.Run($"list chain ip6 {table} forward");
            return true;
        }
        catch (NftException)
        {
            return false;
        }
    }

    private async Task<bool> StoreAnswersAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StoreTimeout);
        try
        {
            await store.GetPolicyAsync(timeout.Token).WaitAsync(timeout.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
        catch (StoreException)
        {
            return false;
        }
    }

    public void Dispose() => nft.Dispose();
}
