import Foundation
import Logging
import NIOSSL
import Synchronization

/// The server's certificate and key (PEM files; the chain after the leaf in the same
/// file), as the TLS context every new connection starts with.
///
/// Rotation without dropping anyone: `reload()` builds a new context from the files and
/// swaps it in; connections already open keep the context they began with, new ones get
/// the new one. Files that do not load (a half-written renewal, a key that does not
/// match) leave the current context in place and say why, so a bad rotation never takes
/// the server down.
public final class TLSCertificateStore: Sendable {
    public let certificatePath: String
    public let keyPath: String
    private let state: Mutex<(context: NIOSSLContext, stamp: FileStamp)>

    /// What the files looked like when last loaded: a change means a new certificate.
    struct FileStamp: Equatable {
        var certificate: [Int64]
        var key: [Int64]
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// Loads the files now; a start with unusable files fails with the reason.
    public init(certificatePath: String, keyPath: String) throws {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        let stamp = Self.stamp(certificatePath, keyPath)
        state = Mutex((try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath), stamp))
    }

    /// The context a connection accepted now starts with.
    public var context: NIOSSLContext { state.withLock { $0.context } }

    /// TLS 1.2 and 1.3 only, forward-secret AEAD ciphers only (TLS 1.3's suites are all
    /// of that kind), HTTP/1.1 offered by ALPN.
    static func makeContext(certificatePath: String, keyPath: String) throws -> NIOSSLContext {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw Problem(description: "cannot read the certificate \(certificatePath): \(error)")
        }
        guard !chain.isEmpty else { throw Problem(description: "no certificate in \(certificatePath)") }
        do {
            key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            // Never the key's bytes: only where it is.
            throw Problem(description: "cannot read the private key \(keyPath): \(type(of: error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                    privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuites = "ECDHE+AESGCM:ECDHE+CHACHA20"
        configuration.applicationProtocols = ["http/1.1"]
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw Problem(description: "the certificate \(certificatePath) and key \(keyPath) do not make a TLS context "
                          + "(does the key match the certificate?): \(error)")
        }
    }

    /// Loads the files again and swaps the new context in; on failure the current one
    /// stays and the error says why.
    public func reload() throws {
        let stamp = Self.stamp(certificatePath, keyPath)
        let context = try Self.makeContext(certificatePath: certificatePath, keyPath: keyPath)
        state.withLock { $0 = (context, stamp) }
    }

    /// Whether either file changed since it was last loaded (size, modification time,
    /// inode: a renewal tool that writes a new file and renames it over the old counts).
    public var filesChanged: Bool {
        let now = Self.stamp(certificatePath, keyPath)
        return state.withLock { $0.stamp != now }
    }

    static func stamp(_ certificate: String, _ key: String) -> FileStamp {
        FileStamp(certificate: fileStamp(certificate), key: fileStamp(key))
    }

    static func fileStamp(_ path: String) -> [Int64] {
        var st = stat()
        guard stat(path, &st) == 0 else { return [] }
        return [Int64(st.st_size), Int64(st.st_mtim.tv_sec), Int64(st.st_mtim.tv_nsec), Int64(st.st_ino)]
    }
}
