using System.Text;

namespace Portcullis.Cli.Admin;

/// <summary>Columns padded to their widest cell, two spaces apart, headers in capitals: what `wg show` and `ip` users read.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public void Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
            throw new ArgumentException($"expected {headers.Length} cells, got {cells.Length}", nameof(cells));
        _rows.Add(cells);
    }

    public override string ToString()
    {
        var widths = new int[headers.Length];
        for (var c = 0; c < headers.Length; c++)
        {
            widths[c] = headers[c].Length;
            foreach (var row in _rows)
                widths[c] = Math.Max(widths[c], row[c].Length);
        }
        var text = new StringBuilder();
        Line(text, headers, widths);
        foreach (var row in _rows)
            Line(text, row, widths);
        return text.ToString();
    }

    private static void Line(StringBuilder text, string[] cells, int[] widths)
    {
        for (var c = 0; c < cells.Length; c++)
        {
            // The last column is not padded, so lines carry no trailing blanks.
            text.Append(c == cells.Length - 1 ? cells[c] : cells[c].PadRight(widths[c] + 2));
        }
        text.Append('\n');
    }
}
