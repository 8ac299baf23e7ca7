namespace Portcullis.PortMapping.Tests.Support;

/// <summary>PCP requests assembled field by field as RFC 6887 §7.1, §11.1 and §13 lay them out (hex).</summary>
internal static class PcpVectors
{
    public const string Client = "00000000 00000000 0000FFFF 0A630002";   // ::ffff:10.99.0.2
    public const string Other = "00000000 00000000 0000FFFF 0A630003";    // ::ffff:10.99.0.3
    public const string Unspecified = "00000000 00000000 00000000 00000000";
    public const string Nonce = "0102030405060708090A0B0C";
    public const string Tcp = "06";
    public const string Udp = "11";

    /// <summary>Version 2, R = 0, opcode, 16 reserved bits, requested lifetime, client address.</summary>
    public static string Header(string opcode, string lifetime = "00000E10", string client = Client) =>
        $"02 {opcode} 0000 {lifetime} {client}";

    /// <summary>Nonce, protocol, 24 reserved bits, internal port, suggested external port, suggested external address.</summary>
    public static string MapData(string protocol = Tcp, string internalPort = "1F90", string suggestedPort = "0000",
        string suggestedAddress = Unspecified, string nonce = Nonce) =>
        $"{nonce} {protocol} 000000 {internalPort} {suggestedPort} {suggestedAddress}";

    public static byte[] Map(string lifetime = "00000E10", string client = Client, string protocol = Tcp, string internalPort = "1F90",
        string suggestedPort = "0000", string suggestedAddress = Unspecified, string options = "", string nonce = Nonce) =>
        Hex.Bytes(Header("01", lifetime, client) + MapData(protocol, internalPort, suggestedPort, suggestedAddress, nonce) + options);

    /// <summary>PEER (RFC 6887 §12.1): the MAP data, then remote peer port, 16 reserved bits, remote peer address.</summary>
    public static byte[] Peer(string remotePort = "0050", string remoteAddress = "00000000 00000000 0000FFFF C0000264",
        string protocol = Tcp, string internalPort = "1F90", string options = "", string lifetime = "00000E10",
        string suggestedPort = "0000") =>
        Hex.Bytes(Header("02", lifetime) + MapData(protocol, internalPort, suggestedPort) + $"{remotePort} 0000 {remoteAddress}" + options);

    public static byte[] Announce(string client = Client, string options = "") =>
        Hex.Bytes(Header("00", "00000000", client) + options);

    /// <summary>Option code, reserved, length, data (already padded).</summary>
    public static string Option(string code, string length, string data = "") => $"{code} 00 {length} {data}";

    public static string ThirdParty(string address) => Option("01", "0010", address);

    public static string PreferFailure => Option("02", "0000");

    public static string Filter(string prefixLength, string port, string address) => Option("03", "0014", $"00 {prefixLength} {port} {address}");
}
