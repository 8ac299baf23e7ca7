namespace Portcullis.Linux.Nftables;

/// <summary>
/// An nftables command failed; <see cref="NftError"/> holds nft's own error text. For a multi-line buffer the source
/// line libnftables 1.0.6 quotes under the error is not always the failing one (it can show the first line); the
/// error itself ("File exists", "No such file or directory", "syntax error …") is reliable.
/// </summary>
public sealed class NftException : Exception
{
    public NftException()
        : this("nftables command failed", string.Empty)
    {
    }

    public NftException(string message)
        : this(message, string.Empty)
    {
    }

    public NftException(string message, Exception innerException)
        : base(message, innerException)
    {
        NftError = string.Empty;
    }

    public NftException(string message, string nftError)
        : base(nftError.Length == 0 ? message : $"{message}: {nftError.TrimEnd()}")
    {
        NftError = nftError;
    }

    /// <summary>What libnftables wrote to its error buffer, e.g. "Error: Could not process rule: File exists …".</summary>
    public string NftError { get; }
}
