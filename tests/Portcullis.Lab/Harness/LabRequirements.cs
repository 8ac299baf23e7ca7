namespace Portcullis.Lab.Harness;

/// <summary>Preconditions of the lab, checked loudly: a lab test never skips silently.</summary>
public static class LabRequirements
{
    public static void EnsureRoot()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                "The lab tests create network namespaces and must run as root (e.g. `sudo scripts/test`).");
        }
    }
}
