namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// Who made the slow requests slow: each request past the bar either had a garbage collection pause between its
/// scheduled send and its answer, or is put down to the longest of its parts — the sender's lateness, send → policy
/// call (the server's receive and hand-over to a worker), the call (group commit and kernel update), return → answer
/// received (the answer's send and the client's wake-up).
/// </summary>
internal static class TailAccount
{
    public static string Of(IReadOnlyList<OpenLoopClients.SlowRequest> slow, IReadOnlyList<(long From, long To)> pauses, int answered)
    {
        int gc = 0, late = 0, toCall = 0, call = 0, answer = 0, unknown = 0;
        foreach (var r in slow)
        {
            if (pauses.Any(p => p.From < r.Answered && p.To > r.Scheduled))
            {
                gc++;
                continue;
            }
            if (r.Called == 0)
            {
                unknown++;
                continue;
            }
            var parts = new[] { r.Sent - r.Scheduled, r.Called - r.Sent, r.Returned - r.Called, r.Answered - r.Returned };
            switch (Array.IndexOf(parts, parts.Max()))
            {
                case 0: late++; break;
                case 1: toCall++; break;
                case 2: call++; break;
                default: answer++; break;
            }
        }
        return $"past {OpenLoopClients.SlowMicros:F0} µs: {slow.Count} ({100.0 * slow.Count / Math.Max(1, answered):F2} % of answered); "
            + $"a GC pause within {gc}; otherwise the longest part was the sender's lateness {late}, send → policy call {toCall}, "
            + $"the call {call}, return → answer {answer}" + (unknown > 0 ? $", unstaged {unknown}" : "");
    }
}
