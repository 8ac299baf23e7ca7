using System.Text;
using Tomlyn.Syntax;

namespace Portcullis.Gateway.Configuration;

/// <summary>
/// One table of the syntax tree with its keys by name, so values are read with the line they sit on and any key
/// nobody asked for is reported as unknown (a typo must not pass silently). Errors go to a shared
/// <see cref="ConfigErrors"/>; getters return null after reporting, so parsing goes on and every problem is listed.
/// </summary>
internal sealed class TomlSection
{
    private readonly Dictionary<string, KeyValueSyntax> _items = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    private readonly ConfigErrors _errors;

    public TomlSection(string display, int line, IEnumerable<KeyValueSyntax> items, ConfigErrors errors)
    {
        Display = display;
        Line = line;
        _errors = errors;
        foreach (var item in items)
            _items.TryAdd(TomlNames.Of(item.Key), item); // duplicates were already reported by the parser
    }

    /// <summary>How errors name the table: "[tunnel]", "[[peer]]".</summary>
    public string Display { get; }

    /// <summary>1-based line of the table header (0 for the document's root).</summary>
    public int Line { get; }

    public bool Has(string key) => _items.ContainsKey(key);

    /// <summary>Reports every key no getter asked for.</summary>
    public void RejectUnread()
    {
        foreach (var (name, item) in _items)
        {
            if (!_read.Contains(name))
                _errors.Add(LineOf(item), Display, name, "unknown key");
        }
    }

    public void Error(string key, string message) => _errors.Add(LineOf(key), Display, key, message);

    /// <summary>The line of <paramref name="key"/>, or of the table header when the key is absent.</summary>
    public int LineOf(string key) => _items.TryGetValue(key, out var item) ? LineOf(item) : Line;

    /// <summary>A missing required key, reported at the table's header.</summary>
    public void Missing(string key) => _errors.Add(Line, Display, key, "required key is missing");

    public string? String(string key, bool required = false) =>
        Read<StringValueSyntax>(key, required, "a string")?.Value;

    public long? Integer(string key, bool required = false) =>
        Read<IntegerValueSyntax>(key, required, "an integer")?.Value;

    public bool? Boolean(string key, bool required = false) =>
        Read<BooleanValueSyntax>(key, required, "true or false")?.Value;

    public IReadOnlyList<ValueSyntax>? Array(string key, bool required = false)
    {
        var array = Read<ArraySyntax>(key, required, "an array");
        if (array is null)
            return null;
        var values = new List<ValueSyntax>();
        foreach (var item in array.Items)
        {
            if (item.Value is not null)
                values.Add(item.Value);
        }
        return values;
    }

    /// <summary>An integer within [min, max], or null (reported) when absent-but-required, mistyped or out of range.</summary>
    public long? Integer(string key, long min, long max, bool required = false)
    {
        var value = Integer(key, required);
        if (value is null)
            return null;
        if (value < min || value > max)
        {
            Error(key, $"expected an integer from {min} to {max}");
            return null;
        }
        return value;
    }

    private T? Read<T>(string key, bool required, string expected) where T : ValueSyntax
    {
        _read.Add(key);
        if (!_items.TryGetValue(key, out var item))
        {
            if (required)
                Missing(key);
            return null;
        }
        if (item.Value is T value)
            return value;
        Error(key, $"expected {expected}");
        return null;
    }

    public static int LineOf(SyntaxNode node) => node.Span.Start.Line + 1;
}

/// <summary>Key and table names as written, dotted parts joined with '.' (trivia dropped).</summary>
internal static class TomlNames
{
    public static string Of(KeySyntax? key)
    {
        if (key is null)
            return "";
        var name = new StringBuilder(Part(key.Key));
        foreach (var dotted in key.DotKeys)
            name.Append('.').Append(Part(dotted.Key));
        return name.ToString();
    }

    private static string Part(BareKeyOrStringValueSyntax? part) => part switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax quoted => quoted.Value ?? "",
        _ => "",
    };
}
