using System.Diagnostics;
using System.Reflection;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Metrics;

/// <summary>
/// Times every store call and counts the failed ones (<see cref="StoreException"/>: unreachable, locked, damaged;
/// a conflict or a not-found is an answer, not an error). A <see cref="DispatchProxy"/> rather than a hand-written
/// decorator, so a method the store contract gains (a fleet store's) is measured without touching this file. The
/// operation label is the method's name in snake case without "_async" (list_peers, add_forward, …). The replay
/// floors (<see cref="IReplayFloorStore"/>, apart from the store contract) are measured the same way.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy.Create refuses sealed proxy types.
internal class MeteredStore : DispatchProxy
#pragma warning restore CA1852
{
    private object _inner = null!;
    private GatewayMetrics _metrics = null!;
    private readonly Dictionary<MethodInfo, string> _names = [];

    public static IGatewayStore Wrap(IGatewayStore inner, GatewayMetrics metrics) => Wrap<IGatewayStore>(inner, metrics);

    public static IReplayFloorStore WrapFloors(IReplayFloorStore inner, GatewayMetrics metrics) => Wrap<IReplayFloorStore>(inner, metrics);

    private static T Wrap<T>(T inner, GatewayMetrics metrics)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(inner);
        var proxy = DispatchProxy.Create<T, MeteredStore>();
        var metered = (MeteredStore)(object)proxy;
        metered._inner = inner;
        metered._metrics = metrics;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        var name = Name(targetMethod);
        var start = Stopwatch.GetTimestamp();
        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            _metrics.ObserveStore(name, Stopwatch.GetElapsedTime(start), e.InnerException is StoreException);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
        switch (result)
        {
            case Task task:
                // Observed when the call is done, not when it returned its task.
                _ = task.ContinueWith(static (t, state) =>
                {
                    var (metrics, operation, started) = ((GatewayMetrics, string, long))state!;
                    metrics.ObserveStore(operation, Stopwatch.GetElapsedTime(started), t.Exception?.InnerException is StoreException);
                }, (_metrics, name, start), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return result;
#pragma warning disable CA2012 // The proxy gets the ValueTask boxed; it is consumed once, by Observe.
            case ValueTask valueTask:
                return Observe(valueTask, name, start);
#pragma warning restore CA2012
            default:
                _metrics.ObserveStore(name, Stopwatch.GetElapsedTime(start), failed: false);
                return result;
        }
    }

    private async ValueTask Observe(ValueTask call, string name, long start)
    {
        var failed = false;
        try
        {
            await call.ConfigureAwait(false);
        }
        catch (StoreException)
        {
            failed = true;
            throw;
        }
        finally
        {
            _metrics.ObserveStore(name, Stopwatch.GetElapsedTime(start), failed);
        }
    }

    private string Name(MethodInfo method)
    {
        lock (_names)
        {
            if (_names.TryGetValue(method, out var known))
                return known;
            var text = method.Name.EndsWith("Async", StringComparison.Ordinal) ? method.Name[..^5] : method.Name;
            var builder = new System.Text.StringBuilder(text.Length + 4);
            for (var i = 0; i < text.Length; i++)
            {
                if (char.IsUpper(text[i]) && i > 0)
                    builder.Append('_');
                builder.Append(char.ToLowerInvariant(text[i]));
            }
            return _names[method] = builder.ToString();
        }
    }
}
