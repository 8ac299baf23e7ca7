namespace Portcullis.Lab.Harness;

/// <summary>Polling with a deadline, for state the lab can only observe from outside.</summary>
internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every <paramref name="interval"/> until it holds (true) or <paramref name="timeout"/> passes (false).</summary>
    public static async Task<bool> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, TimeSpan interval)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            if (await condition())
                return true;
            await Task.Delay(interval);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }
}
