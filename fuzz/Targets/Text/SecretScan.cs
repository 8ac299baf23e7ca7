using System.Text.RegularExpressions;

namespace Portcullis.Fuzz.Targets.Text;

/// <summary>Finds WireGuard keys (44 base64 characters encoding 32 bytes) in a text, so targets can check that no error message repeats one.</summary>
internal static partial class SecretScan
{
    public static IEnumerable<string> Keys(string text)
    {
        var bytes = new byte[33];
        foreach (Match match in KeyPattern().Matches(text))
        {
            if (Convert.TryFromBase64String(match.Value, bytes, out var written) && written == 32)
                yield return match.Value;
        }
    }

    /// <summary>True when <paramref name="message"/> repeats a key found in <paramref name="input"/>.</summary>
    public static bool Leaks(string message, string input) => Keys(input).Any(key => message.Contains(key, StringComparison.Ordinal));

    /// <summary>Checks that <paramref name="message"/> repeats no key of <paramref name="input"/>; the finding shows the message with the key masked.</summary>
    public static void CheckNoLeak(string message, string input, string property)
    {
        foreach (var key in Keys(input))
        {
            if (message.Contains(key, StringComparison.Ordinal))
                throw new FuzzCheckException($"{property}: {message.Replace(key, "<KEY>", StringComparison.Ordinal)}");
        }
    }

    [GeneratedRegex("[A-Za-z0-9+/]{43}=")]
    private static partial Regex KeyPattern();
}
