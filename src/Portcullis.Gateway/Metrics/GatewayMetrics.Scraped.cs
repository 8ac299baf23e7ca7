using System.Reflection;
using Portcullis.PortMapping.Server;
using Portcullis.WireGuard.Device;
using Prometheus;

namespace Portcullis.Gateway.Metrics;

public sealed partial class GatewayMetrics
{
    // The families read at scrape time. Update runs in the registry's before-collect callback, one scrape at a time
    // per registry; counters are mirrored with IncTo (they only ever go up: the device and the server never reset).
    private sealed class ScrapedFamilies
    {
        private static readonly string Version =
            typeof(GatewayMetrics).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

        private readonly bool _perPeer;
        private readonly Gauge _info;
        private readonly Gauge _peersConfigured;
        private readonly Gauge _peersEnabled;
        private readonly Gauge _peersConnected;
        private readonly Counter _handshakes;
        private readonly Counter _sessionsStarted;
        private readonly Counter _sessionsEnded;
        private readonly Counter _receivedBytes;
        private readonly Counter _sentBytes;
        private readonly Counter _receivedPackets;
        private readonly Counter _sentPackets;
        private readonly Counter _dropped;
        private readonly Counter _cookieReplies;
        private readonly Counter _portRequests;
        private readonly Counter _portRequestsDropped;
        private readonly Gauge _mappings;
        private readonly Gauge _forwardingEnabled;
        private readonly Gauge _poolSize;
        private readonly Gauge _poolUsed;
        private readonly Counter _pairSplits;
        private readonly Counter _conntrackDeletions;
        private readonly Counter _inboundDropped;
        private readonly Counter? _peerReceived;
        private readonly Counter? _peerSent;
        private HashSet<string> _peerNames = new(StringComparer.Ordinal);

        public ScrapedFamilies(IMetricFactory factory, bool perPeer)
        {
            _perPeer = perPeer;
            _info = factory.CreateGauge("portcullis_info", "Always 1; the version label says which gateway build runs.", ["version"]);
            _peersConfigured = factory.CreateGauge("portcullis_peers_configured", "Peers in the store, enabled or not.");
            _peersEnabled = factory.CreateGauge("portcullis_peers_enabled", "Peers allowed to connect.");
            _peersConnected = factory.CreateGauge("portcullis_peers_connected", "Peers with a live WireGuard session.");
            _handshakes = factory.CreateCounter("portcullis_handshakes_total",
                "WireGuard handshakes by our role (initiator, responder) and result (sent, completed, rejected, timed_out).", ["role", "result"]);
            _sessionsStarted = factory.CreateCounter("portcullis_sessions_started_total", "Peer sessions started (first handshake after none).");
            _sessionsEnded = factory.CreateCounter("portcullis_sessions_ended_total",
                "Peer sessions ended, by reason (idle, removed, keys_expired, device_closed).", ["reason"]);
            _receivedBytes = factory.CreateCounter("portcullis_received_bytes_total", "Bytes of WireGuard transport messages received from peers.");
            _sentBytes = factory.CreateCounter("portcullis_sent_bytes_total", "Bytes of WireGuard transport messages sent to peers.");
            _receivedPackets = factory.CreateCounter("portcullis_received_packets_total", "WireGuard transport messages received from peers (keepalives included).");
            _sentPackets = factory.CreateCounter("portcullis_sent_packets_total", "WireGuard transport messages sent to peers (keepalives included).");
            _dropped = factory.CreateCounter("portcullis_dropped_packets_total", "Packets the WireGuard device dropped, by reason.", ["reason"]);
            _cookieReplies = factory.CreateCounter("portcullis_cookie_replies_sent_total",
                "Cookie replies sent instead of answering a handshake while under load.");
            _portRequests = factory.CreateCounter("portcullis_port_requests_total",
                "NAT-PMP and PCP requests answered, by protocol (natpmp, pcp), opcode and result code.", ["protocol", "opcode", "result"]);
            _portRequestsDropped = factory.CreateCounter("portcullis_port_requests_dropped_total",
                "Port-mapping datagrams dropped without an answer, by reason (unreadable: too short or not a request; foreign_interface: a tunnel source that did not come in on the tunnel).",
                ["reason"]);
            _mappings = factory.CreateGauge("portcullis_mappings",
                "Mappings held, by kind: dynamic (NAT-PMP/PCP leases), static (operator forwards live now), dedicated (dedicated public addresses in force).", ["kind"]);
            _forwardingEnabled = factory.CreateGauge("portcullis_forwarding_enabled", "1 when the policy in force grants port requests, 0 when it refuses them all.");
            _poolSize = factory.CreateGauge("portcullis_port_pool_size_ports", "Ports in the dynamic port range.");
            _poolUsed = factory.CreateGauge("portcullis_port_pool_used_ports",
                "Ports of the dynamic range not available to a new peer, by state (mapped: held by a mapping or static forward; quarantined: released lately).", ["state"]);
            _pairSplits = factory.CreateCounter("portcullis_port_pair_splits_total",
                "Mappings that got another public port than the peer's mapping of the other protocol (an operator's static forward held it).");
            _conntrackDeletions = factory.CreateCounter("portcullis_conntrack_deletions_total",
                "Tracked flows deleted because their mapping, route or peer went away.");
            _inboundDropped = factory.CreateCounter("portcullis_inbound_dropped_total",
                "New inbound connections to a forward dropped by the per-forward limits, by reason (rate: over [forwarding] inbound_new_per_second; connections: over inbound_max_connections).",
                ["reason"]);
            if (perPeer)
            {
                _peerReceived = factory.CreateCounter("portcullis_peer_received_bytes_total",
                    "Bytes received from one peer (opt-in: [admin] metrics_per_peer).", ["peer"]);
                _peerSent = factory.CreateCounter("portcullis_peer_sent_bytes_total",
                    "Bytes sent to one peer (opt-in: [admin] metrics_per_peer).", ["peer"]);
            }
        }

        public void Update(GatewayMetricSources sources)
        {
            _info.WithLabels(Version).Set(1);
            UpdatePeers(sources);
            UpdateDevice(sources.Device.Counters);
            _sessionsStarted.IncTo(sources.Sessions.Started);
            foreach (var reason in Enum.GetValues<SessionEndReason>())
                _sessionsEnded.WithLabels(Snake(reason.ToString())).IncTo(sources.Sessions.Ended(reason));
            UpdatePortRequests(sources.PortRequests);
            UpdateForwarding(sources);
            _conntrackDeletions.IncTo(sources.FlowsDeleted());
            var inbound = sources.InboundDrops();
            _inboundDropped.WithLabels("rate").IncTo(inbound.Rate);
            _inboundDropped.WithLabels("connections").IncTo(inbound.Connections);
        }

        private void UpdatePeers(GatewayMetricSources sources)
        {
            var stored = sources.Peers.Snapshot();
            var enabled = 0;
            foreach (var peer in stored)
            {
                if (peer.Enabled)
                    enabled++;
            }
            var connected = 0;
            var names = _perPeer ? new HashSet<string>(StringComparer.Ordinal) : null;
            foreach (var peer in sources.Device.Peers)
            {
                if (peer.HasLiveSession)
                    connected++;
                if (names is null || sources.Peers.FindByKey(Convert.ToBase64String(peer.PublicKey.Span)) is not { } owner)
                    continue;
                names.Add(owner.Name);
                _peerReceived!.WithLabels(owner.Name).IncTo(peer.RxBytes);
                _peerSent!.WithLabels(owner.Name).IncTo(peer.TxBytes);
            }
            if (names is not null)
            {
                // A removed peer's series go with it; a peer added again starts from zero, which Prometheus reads as a reset.
                foreach (var gone in _peerNames)
                {
                    if (!names.Contains(gone))
                    {
                        _peerReceived!.RemoveLabelled(gone);
                        _peerSent!.RemoveLabelled(gone);
                    }
                }
                _peerNames = names;
            }
            _peersConfigured.Set(stored.Count);
            _peersEnabled.Set(enabled);
            _peersConnected.Set(connected);
        }

        private void UpdateDevice(DeviceCounters counters)
        {
            foreach (var role in Enum.GetValues<HandshakeRole>())
            {
                foreach (var result in Enum.GetValues<HandshakeResult>())
                {
                    // Only pairs that can happen: a responder neither sends initiations nor times out waiting.
                    if (role == HandshakeRole.Responder && result is HandshakeResult.Sent or HandshakeResult.TimedOut)
                        continue;
                    _handshakes.WithLabels(Snake(role.ToString()), Snake(result.ToString())).IncTo(counters.Handshakes(role, result));
                }
            }
            _receivedBytes.IncTo(counters.ReceivedBytes);
            _sentBytes.IncTo(counters.SentBytes);
            _receivedPackets.IncTo(counters.ReceivedPackets);
            _sentPackets.IncTo(counters.SentPackets);
            foreach (var reason in Enum.GetValues<DropReason>())
            {
                if (reason == DropReason.CookieReplySent)
                    _cookieReplies.IncTo(counters[reason]);
                else
                    _dropped.WithLabels(Snake(reason.ToString())).IncTo(counters[reason]);
            }
        }

        private void UpdatePortRequests(PortMappingCounters counters)
        {
            foreach (var answer in counters.Answers.Snapshot())
            {
                var protocol = answer.Protocol == PortMappingProtocol.NatPmp ? "natpmp" : "pcp";
                _portRequests.WithLabels(protocol, PortMappingAnswers.OpcodeName(answer.Protocol, answer.Opcode),
                    PortMappingAnswers.ResultName(answer.Protocol, answer.ResultCode)).IncTo(answer.Count);
            }
            _portRequestsDropped.WithLabels("unreadable").IncTo(counters.Dropped);
            _portRequestsDropped.WithLabels("foreign_interface").IncTo(counters.ForeignInterface);
        }

        private void UpdateForwarding(GatewayMetricSources sources)
        {
            var service = sources.Forwarding;
            var usage = service.PoolUsage;
            _mappings.WithLabels("dynamic").Set(service.Mappings.Count);
            _mappings.WithLabels("static").Set(service.LiveStaticForwardCount);
            _mappings.WithLabels("dedicated").Set(service.DedicatedAddresses.Count);
            _forwardingEnabled.Set(service.Policy.Enabled ? 1 : 0);
            _poolSize.Set(usage.Size);
            _poolUsed.WithLabels("mapped").Set(usage.Mapped);
            _poolUsed.WithLabels("quarantined").Set(usage.Quarantined);
            _pairSplits.IncTo(service.SplitPairs);
        }

        private static string Snake(string pascal)
        {
            var builder = new System.Text.StringBuilder(pascal.Length + 4);
            for (var i = 0; i < pascal.Length; i++)
            {
                if (char.IsUpper(pascal[i]) && i > 0)
                    builder.Append('_');
                builder.Append(char.ToLowerInvariant(pascal[i]));
            }
            return builder.ToString();
        }
    }
}
