namespace Portcullis.Client.Connect;

/// <summary>
/// What systemd tells a unit's stop commands in <c>$SERVICE_RESULT</c> (systemd.exec(5)): "success" when the unit
/// was asked to stop (or its process ended cleanly), the kind of failure ("exit-code", "signal", "core-dump",
/// "watchdog", "timeout", …) when its main process failed — which is when <c>Restart=on-failure</c> starts it again.
/// </summary>
public static class ServiceResult
{
    public const string Variable = "SERVICE_RESULT";

    /// <summary>
    /// True when a stop command runs for a failed client: the kill switch must hold until the restart replaces it.
    /// Unset (not run by systemd) and "success" are not failures.
    /// </summary>
    public static bool IsFailure(string? value) => !string.IsNullOrEmpty(value) && value != "success";
}
