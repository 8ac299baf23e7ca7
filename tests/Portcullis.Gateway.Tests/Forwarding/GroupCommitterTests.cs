using Portcullis.Gateway.Forwarding;

namespace Portcullis.Gateway.Tests.Forwarding;

// The committer alone, no table: batching, per-key order, errors.
public sealed class GroupCommitterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public void Submit_Alone_RunsAtOnceOnTheCallersThread()
    {
        var threads = new List<int>();
        var committer = new GroupCommitter<int, string>(batch =>
        {
            threads.Add(Environment.CurrentManagedThreadId);
            foreach (var slot in batch)
                slot.Result = $"r{slot.Request}";
        }, maxBatch: 8, maxWait: TimeSpan.Zero);

        Assert.Equal("r1", committer.Submit(1, "a"));
        Assert.Equal("r2", committer.Submit(2, "a"));

        Assert.Equal([Environment.CurrentManagedThreadId, Environment.CurrentManagedThreadId], threads);
        Assert.Equal((2L, 2L), committer.Totals);
    }

    // Every request is a change the kernel must take, 10 000 a second at the bar: what a batch needs (its list, the
    // key set that keeps one request per key) is reused, so a request costs its own slot and nothing more.
    [Fact]
    public void Submit_Warm_AllocatesNothingButTheRequestsSlot()
    {
        var committer = new GroupCommitter<int, string>(batch =>
        {
            for (var i = 0; i < batch.Count; i++) // not foreach: an interface's enumerator is an allocation of the test's
                batch[i].Result = "ok";
        }, maxBatch: 256, maxWait: TimeSpan.Zero);
        for (var i = 0; i < 100; i++)
            committer.Submit(i, "a");
        const int Count = 1000;
        var slots = new GroupCommitter<int, string>.Slot[Count];

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Count; i++)
            slots[i] = new GroupCommitter<int, string>.Slot(i, "a");
        var slotBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Count; i++)
            Assert.Equal("ok", committer.Submit(i, "a"));
        var submitBytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(submitBytes <= slotBytes, $"{submitBytes / Count} bytes per request, a slot is {slotBytes / Count}");
        GC.KeepAlive(slots);
    }

    [Fact]
    public async Task Submit_QueuedBehindARun_BatchedUpToTheBoundOneKeyPerBatchInOrder()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var batches = new List<int[]>();
        GroupCommitter<int, string>? committer = null;
        committer = new GroupCommitter<int, string>(batch =>
        {
            lock (batches)
                batches.Add([.. batch.Select(s => s.Request)]);
            if (batch[0].Request == 0)
            {
                entered.Set();
                Assert.True(release.Wait(Patience));
            }
            foreach (var slot in batch)
                slot.Result = $"r{slot.Request}";
        }, maxBatch: 3, maxWait: TimeSpan.Zero);

        var first = Task.Run(() => committer.Submit(0, "k0"));
        Assert.True(entered.Wait(Patience));
        // Keys: a, b, a, c, d — submitted one after another so the queue order is known.
        var keys = new[] { "a", "b", "a", "c", "d" };
        var tasks = new List<Task<string>>();
        for (var i = 0; i < keys.Length; i++)
        {
            var request = i + 1;
            var key = keys[i];
            tasks.Add(Task.Run(() => committer.Submit(request, key)));
            Assert.True(SpinWait.SpinUntil(() => committer.Queued == request, Patience));
        }
        release.Set();
        await first;
        var results = await Task.WhenAll(tasks);

        Assert.Equal(["r1", "r2", "r3", "r4", "r5"], results);
        // Bound 3, and "a"'s second request waits for the batch after its first: [1 2 4], then [3 5].
        Assert.Equal([[0], [1, 2, 4], [3, 5]], batches);
    }

    // Waiting for a batch to fill pays only while a run costs more than the wait: after a batch of several whose run
    // was cheap, a request alone goes at once rather than waiting out the bound (here an hour, so a wait shows).
    [Fact]
    public async Task Submit_AfterABatchOfSeveralThatRanCheaperThanTheWait_GoesAtOnce()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var sizes = new List<int>();
        GroupCommitter<int, string>? committer = null;
        committer = new GroupCommitter<int, string>(batch =>
        {
            lock (sizes)
                sizes.Add(batch.Count);
            if (batch[0].Request == 0)
            {
                entered.Set();
                Assert.True(release.Wait(Patience));
            }
            foreach (var slot in batch)
                slot.Result = $"r{slot.Request}";
        }, maxBatch: 8, maxWait: TimeSpan.FromHours(1));

        var first = Task.Run(() => committer.Submit(0, "k0"));
        Assert.True(entered.Wait(Patience));
        var queued = new List<Task<string>>();
        foreach (var (request, key) in (ReadOnlySpan<(int, string)>)[(1, "a"), (2, "b"), (3, "c")])
            queued.Add(Task.Run(() => committer.Submit(request, key)));
        Assert.True(SpinWait.SpinUntil(() => committer.Queued == 3, Patience));
        release.Set();
        await first;
        await Task.WhenAll(queued);
        var alone = Task.Run(() => committer.Submit(4, "a"));

        Assert.Equal("r4", await alone.WaitAsync(Patience)); // times out (fails) if it waits for a batch to fill
        Assert.Equal([1, 3, 1], sizes);
    }

    [Fact]
    public async Task Submit_RunThrows_ItsCallersGetTheErrorAndTheQueueMovesOn()
    {
        var calls = 0;
        var committer = new GroupCommitter<int, string>(batch =>
        {
            if (Interlocked.Increment(ref calls) == 1)
                throw new InvalidOperationException("boom");
            foreach (var slot in batch)
                slot.Result = "ok";
        }, maxBatch: 8, maxWait: TimeSpan.Zero);

        Assert.Throws<InvalidOperationException>(() => committer.Submit(1, "a"));
        Assert.Equal("ok", await Task.Run(() => committer.Submit(2, "a")));
    }

    [Fact]
    public void Submit_RunSetsAnError_OnlyThatCallerThrows()
    {
        var committer = new GroupCommitter<int, string>(batch =>
        {
            foreach (var slot in batch)
            {
                if (slot.Request < 0)
                    slot.Error = new ArgumentException("bad request");
                else
                    slot.Result = "ok";
            }
        }, maxBatch: 8, maxWait: TimeSpan.Zero);

        Assert.Throws<ArgumentException>(() => committer.Submit(-1, "a"));
        Assert.Equal("ok", committer.Submit(1, "a"));
    }
}
