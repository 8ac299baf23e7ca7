using System.Net;
using Portcullis.Gateway.Store;

namespace Portcullis.Gateway.Admin;

// The operator's answer to an abuse report: who held PUBLIC:PORT at TIME. Only from the opt-in audit trail — never from
// live state, logs or guesses — so with auditing off the answer is a refusal that says why (DESIGN §3 inv. 8).
public sealed partial class GatewayOperations
{
    /// <summary>The audit trail, when auditing is on and the store keeps one; set by the host.</summary>
    internal IAuditStore? AuditTrail { get; init; }

    public async Task<IReadOnlyList<AuditRecord>> FindHoldersAsync(
        IPAddress publicAddress, ushort publicPort, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(publicAddress);
        if (!_configuredPolicy.AuditLog || AuditTrail is null)
        {
            throw new AuditUnavailableException(
                "Auditing is off on this gateway ([forwarding] audit_log = false), so it keeps no record of who held a port; " +
                "it cannot answer. Turn audit_log on to record mappings from now on.");
        }
        if (publicPort == 0)
            throw new AdminRequestException("port: 0 is not a port; expected 1-65535.");
        return await AuditTrail.FindAuditAsync(publicAddress, publicPort, at, cancellationToken).ConfigureAwait(false);
    }
}
