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

    /// <summary>
    /// Polls <paramref name="isUp"/> every <paramref name="interval"/> until it holds; throws with what
    /// <paramref name="process"/> printed when it exits first ("NAME exited with CODE") or
    /// <paramref name="timeout"/> passes ("NAME <paramref name="notUp"/>").
    /// </summary>
    public static async Task ForStartAsync(LabProcess process, string name, Func<Task<bool>> isUp, TimeSpan timeout,
        TimeSpan interval, string notUp)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (process.HasExited)
                throw new LabCommandException($"{name} exited with {process.ExitCode}:\n{process.Output}");
            if (await isUp())
                return;
            if (DateTime.UtcNow > deadline)
                throw new LabCommandException($"{name} {notUp}:\n{process.Output}");
            await Task.Delay(interval);
        }
    }
}
