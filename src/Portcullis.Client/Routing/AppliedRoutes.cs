using Portcullis.Linux;
using Portcullis.Linux.Links;
using Portcullis.Linux.Nftables;

namespace Portcullis.Client.Routing;

/// <summary>
/// Applies a <see cref="RoutePlan"/> to the interface and remembers each step, so <see cref="Dispose"/> undoes exactly
/// what was done, in reverse. Flow: MTU → addresses → link up → routes → rules → src_valid_mark → guard table
/// (<see cref="TunnelGuardRuleset"/>). A failing step
/// undoes the steps before it and rethrows. Routes and addresses go with the interface; rules must be deleted.
/// </summary>
public sealed class AppliedRoutes : IDisposable
{
    private const int EEXIST = 17;
    private const string SourceValidMark = "/proc/sys/net/ipv4/conf/all/src_valid_mark";
    private readonly List<Action> _undo = [];

    private AppliedRoutes()
    {
    }

    public static AppliedRoutes Apply(RoutePlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var applied = new AppliedRoutes();
        try
        {
            Link.SetMtu(plan.Interface, plan.Mtu);
            foreach (var address in plan.Addresses)
                Link.AddAddress(plan.Interface, address.Address, address.PrefixLength);
            Link.SetUp(plan.Interface);
            foreach (var route in plan.Routes)
            {
                try
                {
                    Link.AddRoute(route.Destination, plan.Interface, route.Table);
                }
                catch (LinuxCallException e) when (e.Errno == EEXIST)
                {
                    // An Address prefix already made this connected route (wg-quick skips these too).
                    continue;
                }
                applied._undo.Add(() => Link.DeleteRoute(route.Destination, plan.Interface, route.Table));
            }
            foreach (var rule in plan.Rules)
            {
                Link.AddRule(rule);
                applied._undo.Add(() => Link.DeleteRule(rule));
            }
            if (plan.SetSourceValidMark)
                File.WriteAllText(SourceValidMark, "1\n");
            if (TunnelGuardRuleset.Install(plan) is { } guard)
            {
                using (var nft = new NftContext())
                    nft.Run(guard);
                applied._undo.Add(() => RemoveGuard(plan.Interface));
            }
            return applied;
        }
        catch
        {
            applied.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Deletes the policy rules a plan adds, ignoring ones already gone: what <c>disconnect</c> does after a
    /// client was killed (its interface, and with it the routes, went with the process; the rules stay).
    /// </summary>
    public static int RemoveRules(IEnumerable<RoutingRule> rules)
    {
        ArgumentNullException.ThrowIfNull(rules);
        var removed = 0;
        foreach (var rule in rules)
        {
            try
            {
                Link.DeleteRule(rule);
                removed++;
            }
            catch (LinuxCallException)
            {
            }
        }
        return removed;
    }

    /// <summary>Removes the interface's guard table if it is there (also after a killed client).</summary>
    public static void RemoveGuard(string interfaceName)
    {
        using var nft = new NftContext();
        nft.Run(TunnelGuardRuleset.Remove(interfaceName));
    }

    public void Dispose()
    {
        for (var i = _undo.Count - 1; i >= 0; i--)
        {
            try
            {
                _undo[i]();
            }
            catch (Exception e) when (e is LinuxCallException or NftException)
            {
                // Already gone (the interface vanished and took its routes): nothing left to undo.
            }
        }
        _undo.Clear();
    }
}
