using System.Runtime.InteropServices;

namespace Portcullis.WireGuard.Crypto.Native;

/// <summary>
/// The slice of OpenSSL 3's libcrypto that WireGuard needs: EVP digests (BLAKE2s-256), EVP MACs (keyed
/// BLAKE2s, HMAC), EVP_PKEY X25519 and the ChaCha20-Poly1305 EVP cipher. The BCL loads the same
/// libcrypto.so.3, so this shares one library instance with System.Security.Cryptography.
/// Return values follow OpenSSL: 1 is success, 0 or negative is failure; pointers are null on failure.
/// </summary>
internal static unsafe partial class LibCrypto
{
    private const string Library = "libcrypto.so.3";

    internal const int EvpPkeyX25519 = 1034; // NID_X25519
    internal const int EvpCtrlAeadGetTag = 0x10;
    internal const int EvpCtrlAeadSetTag = 0x11;
    internal const uint OsslParamUnsignedInteger = 2;
    internal const uint OsslParamUtf8String = 4;

    // Errors ------------------------------------------------------------------------------------

    [LibraryImport(Library)]
    internal static partial void ERR_clear_error();

    // Digests -----------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_MD_fetch(nint libraryContext, string algorithm, string? properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_MD_CTX_new();

    [LibraryImport(Library)]
    internal static partial void EVP_MD_CTX_free(nint context);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestInit_ex2(nint context, nint digest, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestUpdate(nint context, byte* data, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_DigestFinal_ex(nint context, byte* digest, uint* length);

    // MACs --------------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_MAC_fetch(nint libraryContext, string algorithm, string? properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_MAC_CTX_new(nint mac);

    [LibraryImport(Library)]
    internal static partial void EVP_MAC_CTX_free(nint context);

    [LibraryImport(Library)]
    internal static partial nint EVP_MAC_CTX_dup(nint source);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_CTX_set_params(nint context, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_init(nint context, byte* key, nuint keyLength, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_update(nint context, byte* data, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_MAC_final(nint context, byte* output, nuint* outputLength, nuint outputSize);

    // X25519 ------------------------------------------------------------------------------------

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_new_raw_private_key(int type, nint engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_new_raw_public_key(int type, nint engine, byte* key, nuint length);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_get_raw_public_key(nint key, byte* publicKey, nuint* length);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_free(nint key);

    [LibraryImport(Library)]
    internal static partial nint EVP_PKEY_CTX_new(nint key, nint engine);

    [LibraryImport(Library)]
    internal static partial void EVP_PKEY_CTX_free(nint context);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_init(nint context);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive_set_peer_ex(nint context, nint peer, int validatePeer);

    [LibraryImport(Library)]
    internal static partial int EVP_PKEY_derive(nint context, byte* secret, nuint* length);

    // Ciphers -----------------------------------------------------------------------------------

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial nint EVP_CIPHER_fetch(nint libraryContext, string algorithm, string? properties);

    [LibraryImport(Library)]
    internal static partial nint EVP_CIPHER_CTX_new();

    [LibraryImport(Library)]
    internal static partial void EVP_CIPHER_CTX_free(nint context);

    /// <summary>Null cipher/key/iv keep what the context holds; enc -1 keeps the direction.</summary>
    [LibraryImport(Library)]
    internal static partial int EVP_CipherInit_ex2(nint context, nint cipher, byte* key, byte* iv, int encrypt, OsslParam* parameters);

    [LibraryImport(Library)]
    internal static partial int EVP_CipherUpdate(nint context, byte* output, int* outputLength, byte* input, int inputLength);

    [LibraryImport(Library)]
    internal static partial int EVP_CipherFinal_ex(nint context, byte* output, int* outputLength);

    [LibraryImport(Library)]
    internal static partial int EVP_CIPHER_CTX_ctrl(nint context, int type, int argument, void* pointer);
}

/// <summary>OpenSSL's OSSL_PARAM (openssl/core.h); an array ends with an all-zero element.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct OsslParam
{
    public byte* Key;
    public uint DataType;
    public void* Data;
    public nuint DataSize;
    public nuint ReturnSize;

    /// <summary>OSSL_PARAM_UNMODIFIED: OpenSSL writes ReturnSize only for parameters it fills in.</summary>
    private static readonly nuint Unmodified = nuint.MaxValue;

    /// <summary><paramref name="key"/> and <paramref name="value"/> must point at NUL-terminated UTF-8 that outlives the call (u8 literals do).</summary>
    public static OsslParam Utf8String(byte* key, byte* value, int length) =>
        new() { Key = key, DataType = LibCrypto.OsslParamUtf8String, Data = value, DataSize = (nuint)length, ReturnSize = Unmodified };

    public static OsslParam SizeT(byte* key, nuint* value) =>
        new() { Key = key, DataType = LibCrypto.OsslParamUnsignedInteger, Data = value, DataSize = (nuint)sizeof(nuint), ReturnSize = Unmodified };
}
