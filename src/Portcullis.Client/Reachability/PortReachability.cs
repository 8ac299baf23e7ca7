using System.Globalization;
using System.Net;
using System.Text.Json;
using Portcullis.Client.Exposure;
using Portcullis.Client.PortForwarding;
using Portcullis.PortMapping;

namespace Portcullis.Client.Reachability;

// "Is my port really open?", asked after each new port:
//  1. the gateway probes the mapping from outside the tunnel, through the kernel's own DNAT element
//     (GET http://GATEWAY:8352/v1/reachability/PROTO/PUBLIC_PORT over the tunnel; only our own mappings)
//  2. its answer and what listens here make the verdict:
//       reachable                          → "reachable"
//       closed (refused: RST / ICMP)       → "nothing listening on internal port N"
//       no answer, nothing listens here    → "nothing listening on internal port N"
//       no answer, something listens here  → "blocked on this host" (our own firewall dropped the probe) — for UDP
//                                            "no answer from internal port N", since a UDP service may stay silent
//  3. a gateway that does not answer (an older one, another vendor's) gives "not checked (REASON)"

/// <summary>One check's verdict, as <c>status</c> shows it.</summary>
public sealed record ReachabilityVerdict(string Text, bool Reachable);

/// <summary>Asks the gateway to probe a lease and reads the answer together with this host's listeners.</summary>
public static class PortReachability
{
    /// <summary>The gateway's reachability listener (TCP, on its tunnel address).</summary>
    public const int GatewayPort = 8352;

    public static async Task<ReachabilityVerdict> CheckAsync(HttpClient http, IPAddress gateway, PortLease lease,
        Func<IReadOnlyList<Listener>> listeners, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(lease);
        ArgumentNullException.ThrowIfNull(listeners);
        var protocol = lease.Protocol == ForwardProtocol.Udp ? "udp" : "tcp";
        var uri = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://{gateway}:{GatewayPort}/v1/reachability/{protocol}/{lease.ExternalPort}"));
        string result;
        try
        {
            using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
                return new ReachabilityVerdict($"not checked (gateway answered {(int)response.StatusCode})", false);
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
            result = document.RootElement.GetProperty("result").GetString() ?? "";
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException
            or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new ReachabilityVerdict($"not checked ({e.GetType().Name}: {e.Message})", false);
        }
        return Verdict(result, lease.Protocol == ForwardProtocol.Udp ? ListenerProtocol.Udp : ListenerProtocol.Tcp, lease.InternalPort, listeners());
    }

    /// <summary>The verdict for the gateway's <paramref name="result"/> and what listens here (pure, for tests).</summary>
    public static ReachabilityVerdict Verdict(string result, ListenerProtocol protocol, ushort internalPort, IReadOnlyList<Listener> listeners)
    {
        ArgumentNullException.ThrowIfNull(listeners);
        var nothing = new ReachabilityVerdict(string.Create(CultureInfo.InvariantCulture, $"nothing listening on internal port {internalPort}"), false);
        switch (result)
        {
            case "reachable":
                return new ReachabilityVerdict("reachable", true);
            case "closed":
                return nothing;
            case "no_answer":
                if (!listeners.Any(l => l.Protocol == protocol && l.Port == internalPort))
                    return nothing;
                return protocol == ListenerProtocol.Udp
                    ? new ReachabilityVerdict(string.Create(CultureInfo.InvariantCulture, $"no answer from internal port {internalPort} (UDP services may stay silent)"), false)
                    : new ReachabilityVerdict("blocked on this host", false);
            default:
                return new ReachabilityVerdict($"not checked (unknown answer '{result}')", false);
        }
    }
}
