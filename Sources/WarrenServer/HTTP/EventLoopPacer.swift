import NIOCore

/// Keeps a streamed body from running ahead of its connection.
///
/// A body write hands the chunk to the connection's event loop with `execute` and returns
/// at once; the writer only learns that the socket is full when the event loop has
/// processed the write. Under load (hundreds of downloads, two event loops) the task can
/// read and enqueue chunks faster than the loop drains its queue, so chunks pile up in
/// the loop's task queue: measured at about 6 MB per connection with 200 clients.
/// Waiting for a no-op on the same loop after each write lets the loop catch up (its
/// queue is FIFO, so our write has been handed to the channel by then), after which the
/// next write suspends if the channel is not writable.
struct EventLoopPacer: Sendable {
    let eventLoop: any EventLoop

    func catchUp() async throws {
        try await eventLoop.submit {}.get()
    }
}
