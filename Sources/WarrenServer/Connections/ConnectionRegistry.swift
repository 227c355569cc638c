import Metrics
import NIOCore
import Synchronization
import WarrenCore

/// Every open client connection, so that their number stays under `ClientLimits.maxConnections`.
///
/// At the cap, a new connection first takes the place of the connection that has waited
/// longest for a request (an idle keep-alive, or a client still trickling its header):
/// those cost a descriptor and give nothing, so a flood of them cannot lock out a real
/// client or a health check. Only when every connection is busy answering is the new one
/// refused, with a 503 written straight to the socket.
final class ConnectionRegistry: Sendable {
    /// One admitted connection.
    final class Ticket: Sendable {
        let channel: any Channel
        let id: ObjectIdentifier
        /// When the connection started waiting for a request (nanoseconds of `NIODeadline`),
        /// or 0 while a request is being answered.
        let waitingSince = Atomic<Int64>(0)

        init(channel: any Channel) {
            self.channel = channel
            self.id = ObjectIdentifier(channel)
        }

        func markWaiting(since: NIODeadline) {
            waitingSince.store(max(1, Int64(clamping: since.uptimeNanoseconds)), ordering: .relaxed)
        }
        func markBusy() { waitingSince.store(0, ordering: .relaxed) }
    }

    let limit: Int
    private let open = Mutex<[ObjectIdentifier: Ticket]>([:])
    private let openGauge = Gauge(label: "warren_client_connections")
    private let accepted = MetricHandles.counter("warren_client_connections_accepted_total", [])
    private let refused = MetricHandles.counter("warren_client_connections_refused_total", [])

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { open.withLock { $0.count } }

    /// Admits `channel`, reclaiming the longest-waiting connection at the cap; nil when
    /// every connection is busy and this one must be refused.
    func admit(_ channel: any Channel) -> Ticket? {
        let ticket = Ticket(channel: channel)
        let (admitted, victim, total): (Bool, Ticket?, Int) = open.withLock { map in
            var victim: Ticket?
            if map.count >= limit {
                var oldest = Int64.max
                for candidate in map.values {
                    let since = candidate.waitingSince.load(ordering: .relaxed)
                    if since != 0, since < oldest {
                        oldest = since
                        victim = candidate
                    }
                }
                guard let chosen = victim else { return (false, nil, map.count) }
                map.removeValue(forKey: chosen.id)
            }
            map[ticket.id] = ticket
            return (true, victim, map.count)
        }
        guard admitted else {
            refused.increment()
            return nil
        }
        if let victim {
            ConnectionCloseReason.reclaimed.count()
            victim.channel.close(promise: nil)
        }
        accepted.increment()
        openGauge.record(total)
        return ticket
    }

    /// Forgets a closed connection (a reclaimed one is already gone).
    func release(_ ticket: Ticket) {
        let total = open.withLock { map in
            if map[ticket.id] === ticket { map.removeValue(forKey: ticket.id) }
            return map.count
        }
        openGauge.record(total)
    }
}

/// Why Warren closed a client connection itself; counted in
/// `warren_client_connections_closed_total{reason}` so operators can see attacks and
/// misbehaving clients.
enum ConnectionCloseReason: String {
    /// A request head did not arrive within the header timeout (408).
    case headerTimeout = "header_timeout"
    /// A kept-alive connection sat idle, or a request body paused, past the idle timeout.
    case idleTimeout = "idle_timeout"
    /// The client stopped reading a response (less than the minimum rate for the send timeout).
    case slowReader = "slow_reader"
    /// Taken over by a new connection at the connection cap.
    case reclaimed
    /// A malformed request (400/405/431), answered and closed.
    case badRequest = "bad_request"
    /// The linger after a close ran out before the client closed its side.
    case lingerTimeout = "linger_timeout"

    func count() {
        MetricHandles.counter("warren_client_connections_closed_total", [("reason", rawValue)]).increment()
    }
}
