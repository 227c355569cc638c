import NIOCore

/// The first handler of every client connection: it sees the raw bytes both ways and
/// makes sure no connection can hold a descriptor for nothing.
///
/// - A request head must be complete within the header timeout of its first byte (or of
///   the connection's opening); a kept-alive connection may idle for the idle timeout.
/// - While an answer is being sent, the client must accept at least the minimum rate
///   whenever bytes wait for it; one that stops reading for the send timeout is dropped.
///   A live client on a slow link keeps draining its socket and is never cut.
/// - At most `maxPipelined` requests may wait for answers: beyond that the socket is not
///   read, so a client pipelining thousands of requests gets TCP backpressure, not
///   thousands of queued answers.
/// - Every close is a lingering close with a timer: output is shut, what the client still
///   sends is read and dropped (so the answer is not destroyed by a TCP reset), and the
///   connection is closed when the client closes or the linger runs out. No connection is
///   ever left without a timer.
///
/// `HTTPSemanticsHandler`, above the HTTP decoder, tells it where requests begin and end.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase {
        /// Waiting for the next request; `firstByte` once some of it has arrived.
        case waiting(since: NIODeadline, firstByte: NIODeadline?)
        /// A request is being read or answered.
        case busy
        /// Output shut; input read and dropped until the client closes or `until`.
        case lingering(until: NIODeadline)
        case closed
    }

    let limits: ClientLimits
    private let ticket: ConnectionRegistry.Ticket
    private let registry: ConnectionRegistry
    private var context: ChannelHandlerContext?
    private var phase: Phase = .closed
    /// Requests whose head has arrived and whose answer has not been written whole.
    private var outstanding = 0
    /// A request head has arrived and its end has not.
    private var readingRequest = false
    private var answeredAny = false
    private var inputClosed = false
    /// A `read()` was held back because too many requests wait for answers.
    private var readHeld = false
    private var lastInbound = NIODeadline.now()
    // Send progress, sampled at each check.
    private var lastCheck = NIODeadline.now()
    private var bufferedAtCheck: Int64 = 0
    private var ackedAtCheck: Int64 = 0
    private var waitingAtCheck: Int64 = 0
    private var writtenSinceCheck: Int64 = 0
    /// Every byte written to this connection.
    private var totalWritten: Int64 = 0
    private var stalledFor = TimeAmount.zero
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?

    init(limits: ClientLimits, ticket: ConnectionRegistry.Ticket, registry: ConnectionRegistry) {
        self.limits = limits
        self.ticket = ticket
        self.registry = registry
    }

    /// How often an answer in progress is checked for progress.
    private var checkInterval: TimeAmount {
        .nanoseconds(max(TimeAmount.milliseconds(100).nanoseconds, min(limits.sendTimeout.nanoseconds / 4, TimeAmount.seconds(5).nanoseconds)))
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let now = NIODeadline.now()
        phase = .waiting(since: now, firstByte: nil)
        ticket.markWaiting(since: now)
        schedule(at: now + limits.headerTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        phase = .closed
        cancelTimer()
        registry.release(ticket)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        lastInbound = now
        switch phase {
        case .lingering, .closed:
            return  // dropped: nothing more will be answered
        case .waiting(let since, nil):
            phase = .waiting(since: since, firstByte: now)
            schedule(at: now + limits.headerTimeout)
        case .waiting, .busy:
            break
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            switch phase {
            case .lingering:
                context.close(promise: nil)
                return
            case .waiting where outstanding == 0:
                // The client is done and nothing is owed to it.
                context.close(promise: nil)
                return
            default:
                break
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        switch phase {
        case .lingering:
            context.read()
        case .closed:
            return
        case .waiting, .busy:
            if outstanding >= limits.maxPipelined {
                readHeld = true
            } else {
                context.read()
            }
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let size = Int64(unwrapOutboundIn(data).readableBytes)
        writtenSinceCheck += size
        totalWritten += size
        let done = promise ?? context.eventLoop.makePromise(of: Void.self)
        writesInFlight += 1
        done.futureResult.assumeIsolated().whenComplete { _ in
            self.writesInFlight -= 1
            if self.writesInFlight == 0, let close = self.closeAfterWrites {
                self.closeAfterWrites = nil
                context.close(mode: .all, promise: close)
            }
        }
        context.write(data, promise: done)
    }

    /// Writes handed on and not yet done, and a full close waiting for them.
    private var writesInFlight = 0
    private var closeAfterWrites: EventLoopPromise<Void>?

    /// A full close from above waits for the writes before it: Hummingbird closes right
    /// after the last part of an answer when the server shuts down, and closing at once
    /// would drop what a slow reader has not taken yet (the tail of a zip). A second
    /// close, or one with nothing in flight, goes through at once; the send timeout still
    /// bounds how long a reader that takes nothing can hold it.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, writesInFlight > 0, closeAfterWrites == nil {
            let waiting = context.eventLoop.makePromise(of: Void.self)
            if let promise { waiting.futureResult.cascade(to: promise) }
            closeAfterWrites = waiting
            context.flush()
            return
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: What the HTTP layer reports

    func requestHeadArrived() {
        outstanding += 1
        readingRequest = true
        if case .waiting = phase {
            phase = .busy
            ticket.markBusy()
            let now = NIODeadline.now()
            lastCheck = now
            writtenSinceCheck = 0
            stalledFor = .zero
            schedule(at: now + checkInterval)
        }
    }

    func requestEndArrived() {
        readingRequest = false
        becomeIdleIfDone()
    }

    /// The last byte of an answer has been handed to the socket.
    func answerWritten() {
        outstanding = max(0, outstanding - 1)
        answeredAny = true
        if readHeld, outstanding < limits.maxPipelined, let context {
            readHeld = false
            context.read()
        }
        becomeIdleIfDone()
    }

    /// Writes `answer` (nothing else may be in flight) and closes, lingering.
    func answerAndClose(_ answer: PlainAnswer, reason: ConnectionCloseReason) {
        guard let context else { return }
        switch phase {
        case .lingering, .closed: return
        default: break
        }
        reason.count()
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.byteBuffer(answer.bytes())), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { _ in self.closeLingering() }
    }

    /// Shuts output (everything written so far still goes out first) and reads until the
    /// client closes or the linger timeout passes.
    func closeLingering() {
        guard let context else { return }
        switch phase {
        case .lingering, .closed: return
        default: break
        }
        let until = NIODeadline.now() + limits.lingerTimeout
        phase = .lingering(until: until)
        ticket.markWaiting(since: .now())
        if inputClosed {
            context.close(promise: nil)
            return
        }
        let shut = context.eventLoop.makePromise(of: Void.self)
        context.close(mode: .output, promise: shut)
        shut.futureResult.assumeIsolated().whenFailure { _ in context.close(promise: nil) }
        if readHeld {
            readHeld = false
            context.read()
        }
        schedule(at: until)
    }

    private func becomeIdleIfDone() {
        guard outstanding == 0, !readingRequest, case .busy = phase else { return }
        let now = NIODeadline.now()
        phase = .waiting(since: now, firstByte: nil)
        ticket.markWaiting(since: now)
        stalledFor = .zero
        if inputClosed, let context {
            context.close(promise: nil)
        }
    }

    // MARK: Timer

    private func schedule(at deadline: NIODeadline) {
        if timer != nil, let current = timerDeadline, current <= deadline { return }
        cancelTimer()
        guard let context else { return }
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.timer = nil
            self.timerDeadline = nil
            self.tick()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerDeadline = nil
    }

    private func tick() {
        guard let context else { return }
        let now = NIODeadline.now()
        switch phase {
        case .closed:
            return
        case .lingering(let until):
            if now >= until {
                ConnectionCloseReason.lingerTimeout.count()
                context.close(promise: nil)
            } else {
                schedule(at: until)
            }
        case .waiting(_, let firstByte?):
            let deadline = firstByte + limits.headerTimeout
            if now >= deadline {
                answerAndClose(PlainAnswer(status: 408, reason: "Request Timeout",
                                           message: "request header not complete within \(Self.seconds(limits.headerTimeout))"),
                               reason: .headerTimeout)
            } else {
                schedule(at: deadline)
            }
        case .waiting(let since, nil):
            let deadline = since + (answeredAny ? limits.idleTimeout : limits.headerTimeout)
            if now >= deadline {
                (answeredAny ? ConnectionCloseReason.idleTimeout : .headerTimeout).count()
                context.close(promise: nil)
            } else {
                schedule(at: deadline)
            }
        case .busy:
            if outstanding == 0, readingRequest, now >= lastInbound + limits.idleTimeout {
                ConnectionCloseReason.idleTimeout.count()
                context.close(promise: nil)
                return
            }
            if clientStalled(now: now, context: context) {
                ConnectionCloseReason.slowReader.count()
                context.close(promise: nil)
                return
            }
            schedule(at: now + checkInterval)
        }
    }

    /// Whether bytes have waited for the client, taken slower than the minimum rate, for
    /// the whole send timeout. Progress is what the client's TCP acknowledged
    /// (`TCPProgress`); where the kernel cannot say, what left Warren's own buffer.
    private func clientStalled(now: NIODeadline, context: ChannelHandlerContext) -> Bool {
        let interval = now - lastCheck
        let allowance = Int64(limits.minSendRate) * interval.nanoseconds / 1_000_000_000
        let waiting: Int64, taken: Int64
        if let acked = TCPProgress.bytesAcknowledged(context.channel).map({ Int64(clamping: $0) }),
           acked > 0 || totalWritten < 65536 {
            waiting = max(0, totalWritten - acked)
            taken = acked - ackedAtCheck
            ackedAtCheck = acked
        } else {
            let buffered = Int64((try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0)
            waiting = buffered
            taken = bufferedAtCheck + writtenSinceCheck - buffered
            bufferedAtCheck = buffered
        }
        let required = min(waitingAtCheck + writtenSinceCheck, allowance)
        if waiting > 0, taken < required {
            stalledFor = stalledFor + interval
        } else {
            stalledFor = .zero
        }
        lastCheck = now
        waitingAtCheck = waiting
        writtenSinceCheck = 0
        return stalledFor >= limits.sendTimeout
    }

    static func seconds(_ t: TimeAmount) -> String {
        let ms = t.nanoseconds / 1_000_000
        return ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
