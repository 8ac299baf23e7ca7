
namespace Portcullis.Linux;

/// <summary>A Linux system call or netlink request failed; the message names the operation and the errno text.</summary>
public sealed class LinuxCallException : IOException
{
    public LinuxCallException(string operation, int errno)
        : base($"{operation} failed: {Interop.Errno.Describe(errno)} (errno {errno})")
    {
        Operation = operation;
        Errno = errno;
        HResult = errno;
    }

    public LinuxCallException(string operation, int errno, string kernelMessage)
        : base($"{operation} failed: {Interop.Errno.Describe(errno)} (errno {errno}): {kernelMessage}")
    {
        Operation = operation;
        Errno = errno;
        HResult = errno;
    }

    public LinuxCallException()
        : this("operation", 0)
    {
    }

    public LinuxCallException(string message)
        : base(message)
    {
        Operation = string.Empty;
    }

    public LinuxCallException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = string.Empty;
    }

    /// <summary>What was being done, such as "add route 10.0.0.0/8 dev pc0".</summary>
    public string Operation { get; }

    /// <summary>The errno value (positive).</summary>
    public int Errno { get; }
}
