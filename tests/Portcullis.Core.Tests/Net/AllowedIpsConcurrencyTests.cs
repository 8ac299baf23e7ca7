using System.Net;
using Portcullis.Core.Net;

namespace Portcullis.Core.Tests.Net;

public sealed class AllowedIpsConcurrencyTests
{
    private sealed class Peer;

    [Fact]
    public async Task Lookup_DuringConcurrentWrites_AlwaysSeesAConsistentTable()
    {
        // A /8 stays routed to `stable` throughout while a writer churns /24s inside it to `churn`.
        // Every lookup inside the /8 must find one of the two: null would mean a reader saw a
        // half-built path.
        var table = new AllowedIps<Peer>();
        var stable = new Peer();
        var churn = new Peer();
        table.Insert(IPNetwork.Parse("10.0.0.0/8"), stable);
        table.Insert(IPNetwork.Parse("2001:db8::/32"), stable);

        using var stop = new CancellationTokenSource();
        var failures = 0;
        long lookups = 0;
        var readers = Enumerable.Range(0, 2).Select(seed => Task.Run(() =>
        {
            var random = new Random(seed);
            var v4 = new byte[4];
            var v6 = IPAddress.Parse("2001:db8::").GetAddressBytes();
            while (!stop.IsCancellationRequested)
            {
                random.NextBytes(v4);
                v4[0] = 10;
                random.NextBytes(v6.AsSpan(4));
                var found4 = table.Lookup(v4);
                var found6 = table.Lookup(v6);
                if ((found4 != stable && found4 != churn) || (found6 != stable && found6 != churn))
                    Interlocked.Increment(ref failures);
                // Yield now and then so a busy machine still schedules the writer.
                if ((Interlocked.Increment(ref lookups) & 0xFF) == 0)
                    Thread.Yield();
            }
        })).ToArray();

        var writer = Task.Run(() =>
        {
            // Start writing only once readers are running, so the two really overlap.
            SpinWait.SpinUntil(() => Interlocked.Read(ref lookups) >= 1000, TimeSpan.FromSeconds(10));
            var lookupsBefore = Interlocked.Read(ref lookups);
            var random = new Random(99);
            for (var i = 0; i < 6_000; i++)
            {
                var v4 = new IPNetwork(new IPAddress([10, (byte)random.Next(256), (byte)random.Next(256), 0]), 24);
                var v6Bytes = IPAddress.Parse("2001:db8::").GetAddressBytes();
                v6Bytes[4] = (byte)random.Next(256);
                var v6 = new IPNetwork(new IPAddress(v6Bytes), 40);
                if (random.Next(2) == 0)
                {
                    table.Insert(v4, churn);
                    table.Insert(v6, churn);
                }
                else
                {
                    table.Remove(v4);
                    table.Remove(v6);
                }
                if (i % 2000 == 1999)
                    table.RemoveByValue(churn);
            }
            return Interlocked.Read(ref lookups) - lookupsBefore;
        });

        long lookupsDuringWrites;
        try
        {
            lookupsDuringWrites = await writer.WaitAsync(TimeSpan.FromSeconds(120));
        }
        finally
        {
            await stop.CancelAsync();
            // Rethrows any exception a reader hit.
            await Task.WhenAll(readers).WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.True(lookupsDuringWrites > 0);
        Assert.Equal(0, failures);
        Assert.Same(stable, table.Lookup([10, 0, 0, 1]));
    }
}
