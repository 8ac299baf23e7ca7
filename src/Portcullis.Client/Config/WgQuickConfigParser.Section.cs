using System.Globalization;
using System.Net;

namespace Portcullis.Client.Config;

public static partial class WgQuickConfigParser
{
    /// <summary>Shared by both sections: "set once" bookkeeping and the value parsers, which throw naming the key.</summary>
    private abstract class SectionBuilder(string path, int line)
    {
        private readonly Dictionary<string, int> _setOn = new(StringComparer.OrdinalIgnoreCase);

        public int Line { get; } = line;

        protected string Path { get; } = path;

        public abstract void Set(int line, string key, string value);

        protected void Once(int line, string key)
        {
            if (_setOn.TryGetValue(key, out var first))
                throw Error(line, key, $"set twice (first on line {first})");
            _setOn[key] = line;
        }

        protected WgQuickConfigException Error(int line, string? key, string reason) => new(Path, line, key is null ? null : Shown(key), reason);

        protected byte[] Key(int line, string key, string value)
        {
            var bytes = new byte[32];
            if (value.Length != 44 || !Convert.TryFromBase64String(value, bytes, out var written) || written != 32)
                throw Error(line, key, "not a valid key (expected 44 base64 characters encoding 32 bytes, as `wg genkey` prints)");
            return bytes;
        }

        protected ushort Port(int line, string key, string value) =>
            ushort.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port)
                ? port
                : throw Error(line, key, "not a port number (0-65535)");

        protected static string[] List(string value) =>
            value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

        /// <summary>ADDRESS[/LENGTH]; a missing length means a host (/32 or /128).</summary>
        protected (IPAddress Address, int Length) Prefix(int line, string key, string item)
        {
            var slash = item.IndexOf('/', StringComparison.Ordinal);
            var addressText = slash < 0 ? item : item[..slash];
            if (!IPAddress.TryParse(addressText, out var address) || addressText.Contains('%', StringComparison.Ordinal))
                throw Error(line, key, $"'{Shown(item)}' is not an IP address or prefix");
            var max = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
            var length = max;
            if (slash >= 0 && (!int.TryParse(item[(slash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out length) || length > max))
                throw Error(line, key, $"'{Shown(item)}' has an invalid prefix length (0-{max})");
            return (address, length);
        }
    }
}
