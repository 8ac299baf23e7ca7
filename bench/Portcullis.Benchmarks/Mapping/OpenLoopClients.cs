using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Portcullis.Benchmarks.Mapping;

/// <summary>
/// The open loop's load: K client sockets (one tunnel address each), one sender thread that sends each request at its
/// scheduled time and one receiver thread that waits on every client socket (epoll). Two threads for the whole load, so the
/// server's threads are not queued behind 64 receivers for the 2 cores; the sender sleeps until the next request is
/// due on an absolute monotonic deadline (clock_nanosleep, timer slack 1 ns) instead of ticking with Thread.Sleep(1),
/// so it sends at the schedule's time rather than up to a millisecond after it. Lateness is still measured and still
/// counts: a request's latency runs from its scheduled send.
/// </summary>
internal sealed partial class OpenLoopClients : IDisposable
{
    public enum Kind
    {
        Create,
        Refresh,
        Delete,
    }

    private readonly Client[] _clients;
    private readonly StagedAuthority _staged;
    private readonly Thread _receiver;
    private volatile bool _stopping;
    private Samples _samples;
    private int _failed;
    private int _answered;
    private long _lastAnswer;

    public OpenLoopClients(IReadOnlyList<IPAddress> addresses, IPEndPoint server, StagedAuthority staged, int expected)
    {
        _staged = staged;
        _clients = [.. addresses.Select((a, i) =>
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            s.Bind(new IPEndPoint(a, 0));
            s.Connect(server);
            s.Blocking = false;
            return new Client(s, i);
        })];
        _samples = new Samples(expected);
        _receiver = new Thread(Receive) { IsBackground = true, Name = "ol-recv" };
        _receiver.Start();
    }

    /// <summary>Latencies in µs: per kind from the scheduled send, all kinds from the actual send, and the stages.</summary>
    public sealed class Samples(int capacity)
    {
        public List<double>[] ByKind { get; } = [new(capacity), new(capacity), new(capacity)];

        public List<double> FromSend { get; } = new(capacity);

        public List<double> Lateness { get; } = new(capacity);

        /// <summary>Send → policy call, the call (commit + kernel), call's return → answer received.</summary>
        public List<double>[] Stages { get; } = [new(capacity), new(capacity), new(capacity)];

        /// <summary>The timestamps of every request answered later than <see cref="SlowMicros"/> after its scheduled send.</summary>
        public List<SlowRequest> Slow { get; } = new(capacity / 50);
    }

    /// <summary>A request past the latency bar: scheduled, sent, policy call and return (0 when unknown), answer.</summary>
    public readonly record struct SlowRequest(long Scheduled, long Sent, long Called, long Returned, long Answered);

    /// <summary>The latency bar: a request answered later than this after its scheduled send is kept for the tail's account.</summary>
    public const double SlowMicros = 1000;

    public int Answered => Volatile.Read(ref _answered);

    public int Failed => Volatile.Read(ref _failed);

    public long LastAnswer => Interlocked.Read(ref _lastAnswer);

    /// <summary>Starts counting afresh (after a warm-up) and returns what was collected so far.</summary>
    public Samples Reset(int expected)
    {
        lock (this)
        {
            var old = _samples;
            _samples = new Samples(expected);
            Volatile.Write(ref _failed, 0);
            Volatile.Write(ref _answered, 0);
            Interlocked.Exchange(ref _lastAnswer, 0);
            return old;
        }
    }

    /// <summary>Sends <paramref name="total"/> changes at <paramref name="rate"/> a second from <paramref name="start"/> (a Stopwatch timestamp), on this thread.</summary>
    public void Send(int rate, int total, long start)
    {
        _ = Prctl(PrSetTimerSlack, 1, 0, 0, 0); // this thread's sleeps end at their deadline, not up to 50 µs after
        var request = new byte[12];
        request[1] = 2; // map TCP
        for (var sent = 0; sent < total; sent++)
        {
            var scheduled = start + (long)(sent * (double)Stopwatch.Frequency / rate);
            SleepUntil(scheduled);
            var client = _clients[sent % _clients.Length];
            var kind = (Kind)(client.Step % 3);
            var port = (ushort)(1024 + (client.Step / 3 % 30_000));
            client.Step++;
            BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), port);
            BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), Lifetime(kind));
            var sentAt = Stopwatch.GetTimestamp();
            lock (this)
                _samples.Lateness.Add(Micros(sentAt - scheduled));
            lock (client)
                client.InFlight.Enqueue((scheduled, sentAt, kind, port));
            client.Socket.Send(request, SocketFlags.None, out _);
        }
    }

    public static uint Lifetime(Kind kind) => kind == Kind.Delete ? 0u : kind == Kind.Create ? 3600u : 3000u;

    public void Dispose()
    {
        _stopping = true;
        _receiver.Join();
        foreach (var c in _clients)
            c.Socket.Dispose();
    }

    private static void SleepUntil(long timestamp)
    {
        if (Stopwatch.GetTimestamp() >= timestamp)
            return;
        // Stopwatch on Linux is CLOCK_MONOTONIC in ns; otherwise convert.
        var ns = Stopwatch.Frequency == 1_000_000_000 ? timestamp : (long)(timestamp * (1e9 / Stopwatch.Frequency));
        var deadline = new Timespec { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };
        while (ClockNanosleep(ClockMonotonic, TimerAbstime, ref deadline, IntPtr.Zero) == Eintr)
        {
        }
    }

    // One thread for every client: epoll says which sockets are readable, each is drained. (Socket.Select rebuilds and
    // polls the whole set per wake-up: ~25 µs of CPU per answer at 64 clients, a quarter of a core at 10 000/s.)
    private void Receive()
    {
        var buffer = new byte[64];
        var epoll = EpollCreate1(0);
        if (epoll < 0)
            throw new InvalidOperationException($"epoll_create1: {Marshal.GetLastPInvokeError()}");
        try
        {
            foreach (var c in _clients)
            {
                var registration = new EpollEvent { Events = EpollIn, Data = (ulong)c.Index };
                if (EpollCtl(epoll, EpollCtlAdd, (int)c.Socket.Handle, ref registration) != 0)
                    throw new InvalidOperationException($"epoll_ctl: {Marshal.GetLastPInvokeError()}");
            }
            var events = new EpollEvent[_clients.Length];
            while (!_stopping)
            {
                var ready = EpollWait(epoll, events, events.Length, 100);
                for (var i = 0; i < ready; i++)
                {
                    var client = _clients[(int)events[i].Data];
                    while (true)
                    {
                        var n = client.Socket.Receive(buffer, SocketFlags.None, out var error);
                        if (error != SocketError.Success)
                            break;
                        OnAnswer(client, buffer.AsSpan(0, n), Stopwatch.GetTimestamp());
                    }
                }
            }
        }
        finally
        {
            _ = Close(epoll);
        }
    }

    // Answers come back in the order sent (the server handles one client's requests one at a time, in order).
    private void OnAnswer(Client client, ReadOnlySpan<byte> answer, long now)
    {
        if (answer.Length != 16)
        {
            Interlocked.Increment(ref _failed);
            return;
        }
        var answeredPort = BinaryPrimitives.ReadUInt16BigEndian(answer[8..]);
        (long Scheduled, long Sent, Kind Kind, ushort Port) head = default;
        var found = false;
        lock (client)
        {
            // Requests ahead of the answered one were dropped (a full backlog): they stay unanswered (lost).
            while (client.InFlight.TryDequeue(out head))
            {
                if (head.Port == answeredPort)
                {
                    found = true;
                    break;
                }
            }
        }
        if (!found || BinaryPrimitives.ReadUInt16BigEndian(answer[2..]) != 0)
        {
            Interlocked.Increment(ref _failed);
            return;
        }
        var staged = _staged.TryTake(client.Index, head.Port, Lifetime(head.Kind), out var called, out var returned);
        lock (this)
        {
            _samples.ByKind[(int)head.Kind].Add(Micros(now - head.Scheduled));
            if (Micros(now - head.Scheduled) > SlowMicros)
                _samples.Slow.Add(new SlowRequest(head.Scheduled, head.Sent, staged ? called : 0, staged ? returned : 0, now));
            _samples.FromSend.Add(Micros(now - head.Sent));
            if (staged)
            {
                _samples.Stages[0].Add(Micros(called - head.Sent));
                _samples.Stages[1].Add(Micros(returned - called));
                _samples.Stages[2].Add(Micros(now - returned));
            }
        }
        Interlocked.Increment(ref _answered);
        Interlocked.Exchange(ref _lastAnswer, now);
    }

    private static double Micros(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private sealed class Client(Socket socket, int index)
    {
        public int Index { get; } = index;

        public Socket Socket { get; } = socket;

        public Queue<(long Scheduled, long Sent, Kind Kind, ushort Port)> InFlight { get; } = new();

        public int Step { get; set; }
    }

    private const int ClockMonotonic = 1;
    private const int TimerAbstime = 1;
    private const int Eintr = 4;
    private const int PrSetTimerSlack = 29;

    private const uint EpollIn = 1;
    private const int EpollCtlAdd = 1;

    // struct epoll_event is packed on x86-64 (12 bytes), which is where this bench runs.
    [StructLayout(LayoutKind.Sequential, Pack = 4)]
    private struct EpollEvent
    {
        public uint Events;
        public ulong Data;
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int op, int fd, ref EpollEvent registration);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epoll, [Out] EpollEvent[] events, int max, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    // clock_nanosleep returns the error number itself (not -1 and errno).
    [LibraryImport("libc", EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, ref Timespec request, IntPtr remain);

    [LibraryImport("libc", EntryPoint = "prctl")]
    private static partial int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);
}
