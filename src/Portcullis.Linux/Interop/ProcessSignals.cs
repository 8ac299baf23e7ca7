namespace Portcullis.Linux.Interop;

/// <summary>kill(2), which .NET does not expose beyond SIGKILL: to a process, or to a whole process group.</summary>
public static class ProcessSignals
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;

    /// <summary>Sends <paramref name="signal"/> to process <paramref name="pid"/>; false when it is gone or not ours.</summary>
    public static bool Send(int pid, int signal)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pid);
        return Libc.Kill(pid, signal) == 0;
    }

    /// <summary>Sends <paramref name="signal"/> to every process in group <paramref name="processGroup"/>; false when the group is gone.</summary>
    public static bool SendToGroup(int processGroup, int signal)
    {
        // kill(2) with a negative pid signals the process group -pid.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(processGroup);
        return Libc.Kill(-processGroup, signal) == 0;
    }
}
