using Microsoft.Extensions.Logging;

namespace Portcullis.Gateway.Audit;

/// <summary>Audit trail bookkeeping, event ids 4050–4059. None names a peer, a port or an address: these lines say what the trail did, the trail itself is in the store.</summary>
internal static partial class AuditLog
{
    [LoggerMessage(4050, LogLevel.Information, "Audit trail on: records kept {RetentionSeconds} s after their mapping ends, pruned every {PeriodSeconds} s")]
    public static partial void TrailOn(ILogger logger, long retentionSeconds, long periodSeconds);

    [LoggerMessage(4051, LogLevel.Information, "Audit trail: pruned {Count} records ended before {Cutoff:O}")]
    public static partial void Pruned(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(4052, LogLevel.Warning, "Audit trail: the store refused {Operation}; retrying: {Message}")]
    public static partial void StoreFailed(ILogger logger, string operation, string message);

    [LoggerMessage(4053, LogLevel.Information, "Audit trail: closed {Count} records the previous run left open")]
    public static partial void ClosedOpen(ILogger logger, int count);
}
