namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>Keys for the tests: the RFC 7748 §6.1 X25519 pair, so `wg` deriving a public key can be checked.</summary>
internal static class UapiTestKeys
{
    public const string AlicePrivateHex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    public const string AlicePublicHex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    public const string BobPrivateHex = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    public const string BobPublicHex = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    public const string CarolPublicHex = "0101010101010101010101010101010101010101010101010101010101010101";
    public const string PresharedHex = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0";

    public static byte[] Bytes(string hex) => Convert.FromHexString(hex);

    public static string Base64(string hex) => Convert.ToBase64String(Convert.FromHexString(hex));
}
