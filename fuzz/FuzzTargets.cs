using Portcullis.Fuzz.Targets.Admin;
using Portcullis.Fuzz.Targets.Netlink;
using Portcullis.Fuzz.Targets.PortMapping;
using Portcullis.Fuzz.Targets.Text;
using Portcullis.Fuzz.Targets.WireGuard;

namespace Portcullis.Fuzz;

/// <summary>
/// Every target, by name: one per parser of bytes from outside the process. Targets are made on demand because under
/// afl-fuzz no instrumented code may run before the fork server has mapped the coverage memory.
/// </summary>
public static class FuzzTargets
{
    private static readonly (string Name, Func<FuzzTarget> Create, bool OutOfProcess)[] Factories =
    [
        ("wg-initiation", () => new InitiationTarget(), false),
        ("wg-response", () => new ResponseTarget(), false),
        ("wg-cookie-reply", () => new CookieReplyTarget(), false),
        ("wg-transport", () => new TransportTarget(), false),
        ("natpmp-request", () => new NatPmpRequestTarget(), false),
        ("pcp-request", () => new PcpRequestTarget(), false),
        ("natpmp-answer", () => new NatPmpAnswerTarget(), false),
        ("pcp-answer", () => new PcpAnswerTarget(), false),
        ("uapi-set", () => new UapiSetTarget(), false),
        ("wg-quick-config", () => new WgQuickConfigTarget(), false),
        // Tomlyn parses nested arrays and inline tables recursively.
        ("gateway-toml", () => new GatewayTomlTarget(), true),
        ("admin-json", () => new AdminJsonTarget(), false),
        ("rtnetlink-ack", () => new RtNetlinkAckTarget(), false),
        ("ctnetlink-dump", () => new CtNetlinkDumpTarget(), false),
    ];

    public static IReadOnlyList<string> Names { get; } = [.. Factories.Select(f => f.Name)];

    public static FuzzTarget? Create(string name) => Factories.FirstOrDefault(f => f.Name == name).Create?.Invoke();

    /// <summary>
    /// True when a finding could take the process down (deep recursion in a third-party parser): the fuzzer then runs
    /// each input in a child process, slower but it survives a stack overflow.
    /// </summary>
    public static bool RunsOutOfProcess(string name) => Factories.FirstOrDefault(f => f.Name == name).OutOfProcess;
}
