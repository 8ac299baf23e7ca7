using System.Runtime.InteropServices;

namespace Portcullis.Linux.Nftables;

/// <summary>
/// The libnftables calls we use (nftables/libnftables.h, package libnftables1). The context is an opaque
/// pointer; strings cross as UTF-8, and the buffers libnftables returns are owned by the context.
/// </summary>
internal static partial class NftNative
{
    private const string Library = "libnftables.so.1";

    /// <summary>NFT_CTX_DEFAULT: a context that talks to the kernel (opens its netfilter netlink socket).</summary>
    internal const uint ContextDefault = 0;

    /// <summary>NFT_CTX_OUTPUT_JSON; on 1.0.6 it also makes the parser try JSON input first.</summary>
    internal const uint OutputJson = 1 << 4;

    [LibraryImport(Library, EntryPoint = "nft_ctx_new")]
    internal static partial nint ContextNew(uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_free")]
    internal static partial void ContextFree(nint context);

    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int RunCommandFromBuffer(nint context, string buffer);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    internal static partial int BufferOutput(nint context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    internal static partial int BufferError(nint context);

    /// <summary>Returns the output collected since the last call and rewinds the buffer (owned by the context).</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    internal static partial nint GetOutputBuffer(nint context);

    /// <summary>Returns the errors collected since the last call and rewinds the buffer (owned by the context).</summary>
    [LibraryImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    internal static partial nint GetErrorBuffer(nint context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    internal static partial void OutputSetFlags(nint context, uint flags);
}
