namespace Portcullis.Linux.Nftables;

/// <summary>
/// The kernel refused an nf_tables batch written by <see cref="NftSetElementWriter"/>; the whole batch was undone
/// (nfnetlink aborts every change of a batch when one fails), so the kernel holds its state from before the commit.
/// </summary>
public sealed class NftBatchException : Exception
{
    public NftBatchException()
        : this("nf_tables batch failed")
    {
    }

    public NftBatchException(string message)
        : base(message)
    {
        Tag = -1;
    }

    public NftBatchException(string message, Exception innerException)
        : base(message, innerException)
    {
        Tag = -1;
    }

    public NftBatchException(string message, int errno, int tag)
        : base(message)
    {
        Errno = errno;
        Tag = tag;
    }

    /// <summary>The errno the kernel answered (positive); 0 when the failure was not the kernel's answer.</summary>
    public int Errno { get; }

    /// <summary>The tag given with the element the kernel named as the failing one, or -1 when it named none.</summary>
    public int Tag { get; }
}
