using System.Runtime.InteropServices;

namespace Portcullis.Lab.Harness;

/// <summary>The two libc calls the harness needs that .NET does not expose: signalling a whole process group.</summary>
internal static partial class Native
{
    internal const int SigInt = 2;
    internal const int SigKill = 9;
    internal const int SigTerm = 15;

    // kill(2) with a negative pid signals the process group -pid.
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    /// <summary>Signals every process in group <paramref name="processGroup"/>; a group already gone is not an error.</summary>
    internal static void SignalGroup(int processGroup, int signal) => _ = KillNative(-processGroup, signal);

    internal static void Signal(int pid, int signal) => _ = KillNative(pid, signal);
}
