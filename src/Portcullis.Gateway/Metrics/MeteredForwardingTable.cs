using System.Diagnostics;
using Portcullis.Gateway.Forwarding;
using Portcullis.Gateway.Kernel;

namespace Portcullis.Gateway.Metrics;

/// <summary>
/// Times every transaction of the forwarding table and counts the refused ones, around the real table: the table
/// stays the one writer of kernel state and knows nothing of metrics. Not thread-safe, as the table it wraps.
/// </summary>
internal sealed class MeteredForwardingTable(IForwardingTable inner, GatewayMetrics metrics) : IForwardingTable
{
    public void Install(GatewayNetwork network) => Time("install", () => inner.Install(network));

    public IReadOnlyList<ForwardingEntry> List() => Time("list", inner.List);

    public void Update(IReadOnlyCollection<ForwardingEntry> remove, IReadOnlyCollection<ForwardingEntry> add) =>
        Time("update", () => inner.Update(remove, add));

    public void SetDedicated(IReadOnlyCollection<DedicatedRoute> routes, IReadOnlySet<ushort> excludedPorts) =>
        Time("set_dedicated", () => inner.SetDedicated(routes, excludedPorts));

    public IReadOnlyList<DedicatedRoute> ListDedicated() => Time("list_dedicated", inner.ListDedicated);

    public void Uninstall() => Time("uninstall", inner.Uninstall);

    public void Dispose() => inner.Dispose();

    private void Time(string operation, Action action) => Time(operation, () =>
    {
        action();
        return true;
    });

    private T Time<T>(string operation, Func<T> action)
    {
        var start = Stopwatch.GetTimestamp();
        var failed = true;
        try
        {
            var result = action();
            failed = false;
            return result;
        }
        finally
        {
            metrics.ObserveKernel(operation, Stopwatch.GetElapsedTime(start), failed);
        }
    }
}
