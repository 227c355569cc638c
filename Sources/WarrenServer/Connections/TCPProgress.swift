import CTCPInfo
import NIOCore
#if canImport(Glibc)
import Glibc
#endif

/// How many bytes a client has really taken, from the kernel.
///
/// What Warren has handed to the socket says little: the kernel's send buffer holds
/// megabytes, and it asks for more only once a third of it is free, so a client reading a
/// steady 64 KiB/s can leave Warren's own buffer untouched for many seconds. The bytes the
/// client's TCP has acknowledged move with every read it makes.
enum TCPProgress {
    /// Room for the kernel's `struct tcp_info` (232 bytes on Linux 6).
    private typealias RawInfo = InlineArray<48, UInt64>

    /// Bytes of data the peer has acknowledged; nil where the kernel cannot tell. Must be
    /// called on the channel's event loop (the answer is then immediate).
    static func bytesAcknowledged(_ channel: any Channel) -> UInt64? {
        guard let provider = channel as? any SocketOptionProvider else { return nil }
        let future: EventLoopFuture<RawInfo> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: CInt(IPPROTO_TCP)),
            name: NIOBSDSocket.Option(rawValue: CInt(TCP_INFO)))
        var acked: UInt64?
        future.assumeIsolated().whenSuccess { raw in
            acked = withUnsafeBytes(of: raw) { warren_tcp_bytes_acked($0.baseAddress, UInt32($0.count)) }
        }
        return acked
    }
}
