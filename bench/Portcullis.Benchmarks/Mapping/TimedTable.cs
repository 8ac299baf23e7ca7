using System.Diagnostics;
using Portcullis.Gateway.Forwarding;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// The real table with a stopwatch on every Update, split by what it carried: an update with removals also ends their
/// flows (conntrack) before it returns, one without does not — the difference is the conntrack cost.
/// </summary>
internal sealed class TimedTable(IForwardingTable inner) : IForwardingTable
{
    private readonly List<double> _withRemovals = [];
    private readonly List<double> _addsOnly = [];

    public void Reset()
    {
        _withRemovals.Clear();
        _addsOnly.Clear();
    }

    /// <summary>Mean and p99 of Update in µs, for updates with removals and for adds only.</summary>
    public string Summary()
    {
        static string Of(List<double> list)
        {
            if (list.Count == 0)
                return "n/a";
            var sorted = list.Order().ToList();
            return $"{sorted.Average(),6:F0} mean {sorted[Math.Min(sorted.Count - 1, (int)(0.99 * sorted.Count))],6:F0} p99 ({sorted.Count})";
        }
        return $"table update µs — with removals: {Of(_withRemovals)}; adds only: {Of(_addsOnly)}";
    }

    public void Install(GatewayNetwork network) => inner.Install(network);

    public IReadOnlyList<ForwardingEntry> List() => inner.List();

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add)
    {
        var start = Stopwatch.GetTimestamp();
        inner.Update(remove, add);
        (remove.Count > 0 ? _withRemovals : _addsOnly).Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
    }

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts) => inner.SetDedicated(routes, excludedPorts);

    public IReadOnlyList<DedicatedRoute> ListDedicated() => inner.ListDedicated();

    public void Uninstall() => inner.Uninstall();

    public void Dispose() => inner.Dispose();
}
