using System.Security.Cryptography;

namespace Portcullis.Gateway.Tests.Configuration;

/// <summary>Builds config files for the tests: DESIGN §6's example with fresh keys, and private temp folders.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class ConfigText
{
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>DESIGN §6's example (line numbers below are part of the tests: keep the layout).</summary>
    public static string Design(string privateKey, string alice, string bob) => $"""
        [tunnel]
        interface   = "pc0"
        private_key = "{privateKey}"
        listen_port = 51820
        address     = "10.99.0.1/16"

        [nat]
        public_interface = "eth0"
        public_addresses = ["198.51.100.10"]

        [forwarding]
        enabled      = true
        port_range   = "20000-59999"
        max_per_peer = 4

        [store]
        path = "/var/lib/portcullis/portcullis.db"

        [admin]
        listen     = "127.0.0.1:8351"
        token_file = "/etc/portcullis/admin.token"

        [[peer]]
        name              = "alice"
        public_key        = "{alice}"
        address           = "10.99.0.2"
        dedicated_address = "198.51.100.11"

        [[peer.forward]]
        protocol      = "tcp"
        external_port = 30000
        internal_port = 8080

        [[peer]]
        name       = "bob"
        public_key = "{bob}"

        """;

    /// <summary>The smallest valid file: [tunnel] and [nat], then <paramref name="more"/>.</summary>
    public static string Minimal(string privateKey, string more = "") => $"""
        [tunnel]
        interface = "pc0"
        private_key = "{privateKey}"
        address = "10.99.0.1/16"
        [nat]
        public_interface = "eth0"
        public_addresses = ["198.51.100.10"]
        {more}
        """;

    public static string TempDirectory()
    {
        var info = Directory.CreateTempSubdirectory("portcullis-config-");
        return info.FullName;
    }

    public static string WriteFile(string directory, string name, string content, UnixFileMode mode)
    {
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    public const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode WorldReadable = Private | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
