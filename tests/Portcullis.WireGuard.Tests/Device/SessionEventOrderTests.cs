using Microsoft.Extensions.Time.Testing;
using Portcullis.WireGuard.Device;

namespace Portcullis.WireGuard.Tests.Device;

/// <summary>
/// A session's flag and its event change together: whoever queues the events (the gateway, which turns them into
/// static forwards) sees them in the order the flag changed, so the last event it saw is the session's state.
/// </summary>
public sealed class SessionEventOrderTests
{
    private const int Events = 20_000;
    private const int MaxCallsPerRacer = 1_000_000;

    [Fact]
    public void HandshakesRacingTimers_EventsAlternateAndTheLastMatchesTheSession()
    {
        // Virtual time: no timer of the device fires by itself, only the racers below change the session.
        using var pair = new DevicePair(new FakeTimeProvider());
        var peer = Assert.Single(pair.B.Peers);
        var events = new List<bool>(2 * Events);
        var count = 0;
        // A subscriber takes a moment before its event is queued (the gateway's encodes the key first); spinning a
        // little makes that moment long enough for the racers to meet in it.
        void Queue(bool started)
        {
            Thread.SpinWait(Random.Shared.Next(10, 100));
            lock (events)
                events.Add(started);
            Interlocked.Increment(ref count);
        }
        pair.B.SessionEstablished += _ => Queue(true);
        pair.B.SessionEnded += _ => Queue(false);

        // Four racers, each a handshake and a timer in turn (so every racer flips the session even when the scheduler
        // runs it alone), until enough sessions came and went.
        void Race(int racer)
        {
            for (var i = 0; i < MaxCallsPerRacer && Volatile.Read(ref count) < Events; i++)
            {
                if ((i + racer) % 2 == 0)
                    pair.B.RaiseSessionEstablished(peer); // what a derived keypair does
                else
                    pair.B.EndSession(peer, SessionEndReason.Idle); // what the idle timer does
            }
        }
        var racers = Enumerable.Range(0, 4).Select(r => new Thread(() => Race(r))).ToList();
        racers.ForEach(t => t.Start());
        racers.ForEach(t => t.Join());

        lock (events)
        {
            Assert.True(events.Count >= Events, $"only {events.Count} events");
            Assert.True(events[0], "the first event must be a start");
            for (var i = 1; i < events.Count; i++)
                Assert.True(events[i] != events[i - 1], $"events {i - 1} and {i} are both {(events[i] ? "starts" : "ends")} ({events.Count} events)");
            Assert.Equal(peer.HasLiveSession, events[^1]);
        }
    }
}
