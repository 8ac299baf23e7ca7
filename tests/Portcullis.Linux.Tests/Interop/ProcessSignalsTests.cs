using System.Diagnostics;
using Portcullis.Linux.Interop;

namespace Portcullis.Linux.Tests.Interop;

public sealed class ProcessSignalsTests
{
    [Fact]
    public void Send_SigTermToChild_ChildEndsBySignal()
    {
        using var sleeper = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            Assert.True(ProcessSignals.Send(sleeper.Id, ProcessSignals.SigTerm));
            Assert.True(sleeper.WaitForExit(TimeSpan.FromSeconds(30)));
            // A child ended by signal N reports 128 + N.
            Assert.Equal(128 + ProcessSignals.SigTerm, sleeper.ExitCode);
        }
        finally
        {
            if (!sleeper.HasExited)
                sleeper.Kill();
        }
    }

    [Fact]
    public void Send_ProcessGone_False()
    {
        using var done = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        done.WaitForExit();
        var pid = done.Id;
        done.Dispose();
        Assert.False(ProcessSignals.Send(pid, 0));
        Assert.False(ProcessSignals.SendToGroup(pid, 0));
    }
}
