using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Portcullis.Gateway.Forwarding;
using Portcullis.PortMapping;

namespace Portcullis.Gateway.Tests.Forwarding;

// The table writer alone over the in-memory table: one transaction when the kernel takes it all, each change alone
// after a refusal, so only the refused change fails.
public sealed class TableWriterTests
{
    private static readonly IPAddress Public = IPAddress.Parse("198.51.100.10");
    private readonly InMemoryForwardingTable _table = new();
    private readonly TableWriter _writer;

    public TableWriterTests() => _writer = new TableWriter(_table, NullLogger.Instance, () => true);

    private static ForwardingEntry Entry(ushort port) =>
        new(Public, MappingProtocol.Tcp, port, IPAddress.Parse("10.99.0.2"), port, "p2", TimeSpan.FromMinutes(1));

    private static (int Item, MapChange Change) Adding(ushort port) =>
        (port, new MapChange([], [Entry(port)], "creating", () => MapResult.Failure(MapStatus.NetworkFailure)));

    [Fact]
    public void ApplyAll_KernelTakesAll_OneTransaction()
    {
        var taken = new List<(int, bool)>();

        _writer.ApplyAll([Adding(1), Adding(2), Adding(3)], (item, _, ok) => taken.Add((item, ok)));

        Assert.Equal([(1, true), (2, true), (3, true)], taken);
        Assert.Single(_table.Updates);
        Assert.Equal(3, _table.Entries.Count);
    }

    [Fact]
    public void ApplyAll_OneRefused_OnlyItFails()
    {
        _table.Refuses = entry => entry.PublicPort == 2;
        var taken = new List<(int, bool)>();

        _writer.ApplyAll([Adding(1), Adding(2), Adding(3)], (item, _, ok) => taken.Add((item, ok)));

        Assert.Equal([(1, true), (2, false), (3, true)], taken);
        Assert.Equal(2, _table.Updates.Count);
        Assert.Equal([1, 3], _table.Entries.Select(e => (int)e.PublicPort).Order());
    }

    [Fact]
    public void TryUpdate_Refused_FalseAndTableAsItWas()
    {
        _table.Seed(Entry(1));
        _table.FailNext = 1;

        Assert.False(_writer.TryUpdate([Entry(1)], [Entry(2)], "refreshing"));
        Assert.Equal([Entry(1)], _table.Entries);
        Assert.True(_writer.TryUpdate([Entry(1)], [Entry(2)], "refreshing"));
        Assert.Equal([Entry(2)], _table.Entries);
    }

    [Fact]
    public void RemoveEach_OneAlreadyGone_TheOthersRemoved()
    {
        _table.Seed(Entry(1));
        _table.Seed(Entry(3));
        var removed = new List<ushort>();

        _writer.RemoveEach([Entry(1), Entry(2), Entry(3)], entry => removed.Add(entry.PublicPort));

        Assert.Equal([1, 3], removed);
        Assert.Empty(_table.Entries);
    }
}
