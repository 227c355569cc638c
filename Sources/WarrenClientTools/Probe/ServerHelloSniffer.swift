import Foundation
import NIOCore

/// Reads the cipher suite out of the server's ServerHello as it passes by, untouched.
/// The TLS library does not report the negotiated cipher, but the ServerHello is sent
/// in the clear (in TLS 1.3 too), so the first handshake record names it.
final class ServerHelloSniffer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var seen: [UInt8] = []
    private var done = false
    private(set) var cipherSuite: UInt16?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done {
            seen.append(contentsOf: unwrapInboundIn(data).readableBytesView.prefix(4096))
            if let suite = Self.cipherSuite(inServerHello: seen) {
                cipherSuite = suite
                done = true
            } else if seen.count >= 4096 {
                done = true
            }
        }
        context.fireChannelRead(data)
    }

    /// record: type 22, version(2), length(2); handshake: type 2, length(3), version(2),
    /// random(32), session id (1 + n), then the cipher suite (2).
    static func cipherSuite(inServerHello bytes: [UInt8]) -> UInt16? {
        guard bytes.count >= 5 + 4 + 2 + 32 + 1, bytes[0] == 22, bytes[5] == 2 else { return nil }
        let sessionIDLength = Int(bytes[5 + 4 + 2 + 32])
        let at = 5 + 4 + 2 + 32 + 1 + sessionIDLength
        guard bytes.count >= at + 2 else { return nil }
        return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }

    /// IANA names of the suites servers commonly pick.
    static func name(_ suite: UInt16) -> String {
        let names: [UInt16: String] = [
            0x1301: "TLS_AES_128_GCM_SHA256", 0x1302: "TLS_AES_256_GCM_SHA384", 0x1303: "TLS_CHACHA20_POLY1305_SHA256",
            0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
            0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384",
            0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA", 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA",
        ]
        return names[suite] ?? String(format: "0x%04X", suite)
    }
}
