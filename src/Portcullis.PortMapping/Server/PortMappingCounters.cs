namespace Portcullis.PortMapping.Server;

/// <summary>What the server has seen and done; all counts since start, updated atomically.</summary>
public sealed class PortMappingCounters
{
    private long _received;
    private long _natPmpRequests;
    private long _pcpRequests;
    private long _answered;
    private long _dropped;
    private long _foreignInterface;
    private long _malformed;
    private long _granted;
    private long _refused;
    private long _authorityFailures;
    private long _sendFailures;
    private long _announcements;

    /// <summary>Datagrams read from the socket.</summary>
    public long Received => Interlocked.Read(ref _received);

    /// <summary>Well-formed NAT-PMP requests handed on.</summary>
    public long NatPmpRequests => Interlocked.Read(ref _natPmpRequests);

    /// <summary>Well-formed PCP requests handed on.</summary>
    public long PcpRequests => Interlocked.Read(ref _pcpRequests);

    /// <summary>Responses sent (success or error).</summary>
    public long Answered => Interlocked.Read(ref _answered);

    /// <summary>Datagrams dropped without an answer (too short, a response, a wrong size).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>
    /// Datagrams dropped unread because they did not arrive on the interface requests must come from
    /// (<see cref="PortMappingServerOptions.ArrivalInterfaceIndex"/>): a tunnel source from anywhere else is a lie.
    /// </summary>
    public long ForeignInterface => Interlocked.Read(ref _foreignInterface);

    /// <summary>Datagrams that failed parsing or validation: dropped, or answered with an error code.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Requests the policy layer granted (mappings, refreshes, deletes, public-address answers).</summary>
    public long Granted => Interlocked.Read(ref _granted);

    /// <summary>Well-formed requests refused (by the policy layer, or a third-party/all-ports/protocol refusal here).</summary>
    public long Refused => Interlocked.Read(ref _refused);

    /// <summary>Calls into the policy layer that threw (answered as a network failure).</summary>
    public long AuthorityFailures => Interlocked.Read(ref _authorityFailures);

    /// <summary>Responses or announcements the socket would not send.</summary>
    public long SendFailures => Interlocked.Read(ref _sendFailures);

    /// <summary>Unsolicited announcement datagrams sent.</summary>
    public long Announcements => Interlocked.Read(ref _announcements);

    internal void OnReceived() => Interlocked.Increment(ref _received);
    internal void OnNatPmpRequest() => Interlocked.Increment(ref _natPmpRequests);
    internal void OnPcpRequest() => Interlocked.Increment(ref _pcpRequests);
    internal void OnAnswered() => Interlocked.Increment(ref _answered);
    internal void OnDropped() => Interlocked.Increment(ref _dropped);
    internal void OnForeignInterface() => Interlocked.Increment(ref _foreignInterface);
    internal void OnMalformed() => Interlocked.Increment(ref _malformed);
    internal void OnGranted() => Interlocked.Increment(ref _granted);
    internal void OnRefused() => Interlocked.Increment(ref _refused);
    internal void OnAuthorityFailure() => Interlocked.Increment(ref _authorityFailures);
    internal void OnSendFailure() => Interlocked.Increment(ref _sendFailures);
    internal void OnAnnouncement() => Interlocked.Increment(ref _announcements);
}
