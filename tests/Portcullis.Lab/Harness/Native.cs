using Portcullis.Linux.Interop;

namespace Portcullis.Lab.Harness;

/// <summary>Signals for the harness's children, through Portcullis.Linux's kill(2) (a whole process group too).</summary>
internal static class Native
{
    internal const int SigInt = ProcessSignals.SigInt;
    internal const int SigKill = ProcessSignals.SigKill;
    internal const int SigTerm = ProcessSignals.SigTerm;

    /// <summary>Signals every process in group <paramref name="processGroup"/>; a group already gone is not an error.</summary>
    internal static void SignalGroup(int processGroup, int signal) => _ = ProcessSignals.SendToGroup(processGroup, signal);

    internal static void Signal(int pid, int signal) => _ = ProcessSignals.Send(pid, signal);
}
