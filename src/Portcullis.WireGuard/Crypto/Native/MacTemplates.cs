namespace Portcullis.WireGuard.Crypto.Native;

/// <summary>
/// Unkeyed MAC contexts with their parameters already set: BLAKE2SMAC with digest size 16, HMAC with
/// digest BLAKE2S-256. A call duplicates one and keys the copy: setting the HMAC digest by name would
/// cost a provider-store lookup on every call, duplicating a prepared context does not. The templates
/// are only ever read (EVP_MAC_CTX_dup takes a const source), so threads share them without a lock;
/// they hold no key and live as long as the process.
/// </summary>
internal static unsafe class MacTemplates
{
    internal static readonly nint Blake2sMac16 = CreateBlake2sMac16();

    internal static readonly nint HmacBlake2s = CreateHmacBlake2s();

    private static nint CreateBlake2sMac16()
    {
        var context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_MAC_CTX_new(OpenSslAlgorithms.Blake2sMac), "EVP_MAC_CTX_new");
        nuint size = 16;
        var parameters = stackalloc OsslParam[2];
        fixed (byte* sizeName = "size\0"u8)
        {
            parameters[0] = OsslParam.SizeT(sizeName, &size);
            parameters[1] = default;
            OpenSslAlgorithms.Check(LibCrypto.EVP_MAC_CTX_set_params(context, parameters), "EVP_MAC_CTX_set_params");
        }

        return context;
    }

    private static nint CreateHmacBlake2s()
    {
        var context = OpenSslAlgorithms.CheckPointer(LibCrypto.EVP_MAC_CTX_new(OpenSslAlgorithms.Hmac), "EVP_MAC_CTX_new");
        var parameters = stackalloc OsslParam[2];
        fixed (byte* digestName = "digest\0"u8, digest = "BLAKE2S-256\0"u8)
        {
            parameters[0] = OsslParam.Utf8String(digestName, digest, "BLAKE2S-256".Length);
            parameters[1] = default;
            OpenSslAlgorithms.Check(LibCrypto.EVP_MAC_CTX_set_params(context, parameters), "EVP_MAC_CTX_set_params");
        }

        return context;
    }
}
