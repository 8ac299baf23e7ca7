using Microsoft.AspNetCore.Http;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// Paging for the list endpoints: <c>?offset=N&amp;limit=M</c> (both optional; without them, everything, as before).
/// The whole count goes in the <c>X-Total-Count</c> header so a client knows when it has read the last page. Lists
/// are in a stable order (peers as the store keeps them, mappings by public address, protocol and port), so pages
/// read one after another neither skip nor repeat an entry that did not change meanwhile.
/// </summary>
internal static class AdminPage
{
    public const int MaxLimit = 10_000;
    public const string TotalCountHeader = "X-Total-Count";

    /// <summary>400 for an offset below 0 or a limit outside 1–<see cref="MaxLimit"/>.</summary>
    public static void Check(int? offset, int? limit)
    {
        if (offset is < 0)
            throw new AdminRequestException("offset must be 0 or more.");
        if (limit is < 1 or > MaxLimit)
            throw new AdminRequestException($"limit must be 1–{MaxLimit}.");
    }

    /// <summary>The range of <paramref name="count"/> entries a request asks for; 400 for a bad offset or limit.</summary>
    public static (int Start, int Length) Range(int count, int? offset, int? limit, HttpResponse response)
    {
        Check(offset, limit);
        response.Headers[TotalCountHeader] = count.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var start = Math.Min(offset ?? 0, count);
        return (start, Math.Min(limit ?? count, count - start));
    }
}
