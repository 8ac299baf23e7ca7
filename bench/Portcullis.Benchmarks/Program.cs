using BenchmarkDotNet.Running;
using Portcullis.Benchmarks.Mapping;

namespace Portcullis.Benchmarks;

internal static class Program
{
    private static int Main(string[] args)
    {
        // End-to-end measurements that need a network namespace run outside BenchmarkDotNet (see bench/mapping-latency).
        if (args.Length > 0 && args[0] == "mapping-latency")
            return MappingLatency.Run(args[1..]);
        if (args.Length > 0 && args[0] == "mapping-open-loop")
            return MappingOpenLoop.Run(args[1..]);
        if (args.Length > 0 && args[0] == "flow-survival")
            return FlowSurvival.Run(args[1..]);
        if (args.Length > 0 && args[0] == "fleet")
            return Fleet.FleetBench.Run(args[1..]);
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
