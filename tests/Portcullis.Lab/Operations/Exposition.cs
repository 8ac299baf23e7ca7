using System.Globalization;
using System.Text.RegularExpressions;

namespace Portcullis.Lab.Operations;

/// <summary>One sample of a Prometheus text exposition.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public bool Has(string label, string value) => Labels.TryGetValue(label, out var v) && v == value;
}

/// <summary>Reads the sample lines of a scrape (promtool has already judged the format).</summary>
internal static partial class Exposition
{
    public static List<Sample> Parse(string text)
    {
        var samples = new List<Sample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            var match = SampleLine().Match(line);
            if (!match.Success)
                throw new FormatException($"not a sample line: {line}");
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (Match label in LabelPair().Matches(match.Groups["labels"].Value))
                labels[label.Groups[1].Value] = label.Groups[2].Value;
            samples.Add(new Sample(match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    /// <summary>
    /// Every series name the exposition declares (# TYPE), with a histogram's _bucket, _sum and _count, whether or not
    /// it has a sample yet (a labelled counter that never counted has none).
    /// </summary>
    public static HashSet<string> DeclaredNames(string text)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length != 4 || parts[0] != "#" || parts[1] != "TYPE")
                continue;
            names.Add(parts[2]);
            if (parts[3] is "histogram" or "summary")
                names.UnionWith([parts[2] + "_bucket", parts[2] + "_sum", parts[2] + "_count"]);
        }
        return names;
    }

    /// <summary>The sum of the family's samples matching <paramref name="labels"/> ("name=value" each); 0 when none.</summary>
    public static double Value(IEnumerable<Sample> samples, string name, params string[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Has(l[..l.IndexOf('=')], l[(l.IndexOf('=') + 1)..]))).Sum(s => s.Value);

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)( \d+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
