using System.Net;
using Microsoft.AspNetCore.Http;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Reachability;

/// <summary>
/// A check's answer as JSON (the tunnel-side listener and the admin API): result is "reachable", "closed" (refused:
/// nothing listens on the peer's internal port) or "no_answer" (dropped on the way or by the peer's firewall; for UDP
/// also a service that stays silent).
/// </summary>
public sealed record ReachabilityModel(string Result, string PublicAddress, string Protocol, int PublicPort, int InternalPort)
{
    /// <summary>The TCP port of the tunnel-side listener on the gateway's tunnel address.</summary>
    public const int TunnelPort = 8352;

    public static ReachabilityModel From(ReachabilityReport report) => new(
        ReachabilityChecker.Name(report.Outcome), report.PublicAddress.ToString(),
        report.Protocol == MappingProtocol.Tcp ? "tcp" : "udp", report.PublicPort, report.InternalPort);

    /// <summary>The HTTP status and reason of a refused check.</summary>
    public static (int Status, string Reason) Refused(ReachabilityRefusal refusal) => refusal switch
    {
        ReachabilityRefusal.RateLimited => (StatusCodes.Status429TooManyRequests, "Too many checks; one a second (three at once) is the limit."),
        _ => (StatusCodes.Status404NotFound, "No live mapping with this public port and protocol is yours to check."),
    };

    public static bool TryProtocol(string text, out MappingProtocol protocol)
    {
        protocol = text switch { "tcp" => MappingProtocol.Tcp, "udp" => MappingProtocol.Udp, _ => 0 };
        return protocol != 0;
    }

    public static bool TryAddress(string text, out IPAddress address) => IPAddress.TryParse(text, out address!);
}
