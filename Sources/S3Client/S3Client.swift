import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small S3 client of Warren's own, on AsyncHTTPClient (no S3 SDK exists among the
/// packages Warren may use): every request signed with Signature Version 4, transient
/// failures (connection errors, 500/502/503/504, SlowDown) retried with exponential
/// backoff and jitter, a timeout on each attempt. Bodies stream both ways.
///
/// Nothing it throws or returns carries a credential or a signature: errors hold the
/// status, S3's error code and message, and the operation.
public struct S3Client: Sendable {
    public let configuration: S3Configuration
    let signer: SigV4Signer
    let http: HTTPClient
    let threadPool: NIOThreadPool

    public init(configuration: S3Configuration, http: HTTPClient, threadPool: NIOThreadPool = .singleton) {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region)
        self.http = http
        self.threadPool = threadPool
    }

    /// The same client for a quick check (readiness): one attempt, answered or failed
    /// within `timeout` seconds.
    public func probing(timeout: Double = 2) -> S3Client {
        var quick = configuration
        quick.retries = 0
        quick.requestTimeout = timeout
        return S3Client(configuration: quick, http: http, threadPool: threadPool)
    }

    /// An HTTP client for S3: a connect timeout, a read timeout for bodies that stall,
    /// no redirects (S3 answers a wrong region with a 301 that must surface as an error).
    public static func makeHTTPClient(connectTimeout: Double = 2, readTimeout: Double = 30) -> HTTPClient {
        var config = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .milliseconds(Int64(connectTimeout * 1000)), read: .milliseconds(Int64(readTimeout * 1000)))
        )
        config.decompression = .disabled
        config.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
    }

    /// One request, signed, retried while the failure is transient. Returns the response
    /// once its status is 2xx or one of `alsoAccepted`; its body is for the caller to read.
    func send(_ method: HTTPMethod, key: String, query: [(name: String, value: String)] = [],
              headers: [(name: String, value: String)] = [], body: S3Body = .empty,
              alsoAccepted: Set<Int> = [], operation: String) async throws(S3Error) -> HTTPClientResponse {
        let payloadHash: String
        do {
            payloadHash = try await body.sha256(threadPool: threadPool)
        } catch let error as S3Error {
            throw error
        } catch {
            throw S3Error(kind: .malformed, message: "cannot read the body: \(error)", operation: operation)
        }
        var attempts = 0
        while true {
            do throws(S3Error) {
                return try await attemptOnce(method, key: key, query: query, headers: headers, body: body,
                                         payloadHash: payloadHash, alsoAccepted: alsoAccepted, operation: operation)
            } catch {
                attempts += 1
                guard error.isTransient, attempts <= configuration.retries else { throw error }
                let backoff = 0.05 * pow(2, Double(attempts - 1)) * Double.random(in: 0.7...1.3)
                try? await Task.sleep(for: .milliseconds(Int64(backoff * 1000)))
            }
        }
    }

    private func attemptOnce(_ method: HTTPMethod, key: String, query: [(name: String, value: String)],
                         headers: [(name: String, value: String)], body: S3Body, payloadHash: String,
                         alsoAccepted: Set<Int>, operation: String) async throws(S3Error) -> HTTPClientResponse {
        let toSign = SigV4Signer.Request(method: method.rawValue, host: configuration.hostHeader,
                                         path: configuration.path(forKey: key), query: query,
                                         headers: headers, payloadHash: payloadHash)
        var url = "\(configuration.scheme)://\(configuration.hostHeader)\(toSign.encodedPath)"
        if !query.isEmpty { url += "?" + toSign.encodedQuery }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Host", value: configuration.hostHeader)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.sign(toSign, at: Date()) { request.headers.add(name: name, value: value) }
        if method == .PUT || method == .POST {
            request.body = body.requestBody(threadPool: threadPool)
        }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .milliseconds(Int64(configuration.requestTimeout * 1000)))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw S3Error(kind: .timedOut, message: "", operation: operation)
        } catch {
            throw S3Error(kind: .unreachable, message: "\(Self.transportMessage(error))", operation: operation)
        }
        let status = Int(response.status.code)
        if (200..<300).contains(status) || alsoAccepted.contains(status) { return response }
        let text = await Self.collect(response.body, limit: 16 * 1024)
        let parsed = S3Error.parseBody(text ?? [])
        throw S3Error(kind: .status(status), code: parsed.code ?? (status == 404 ? "NoSuchKey" : nil),
                      message: parsed.message ?? "", operation: operation)
    }

    /// A transport error in a few words (AsyncHTTPClient's descriptions name no secrets,
    /// but can be long).
    public static func transportMessage(_ error: any Error) -> String {
        String(String(describing: error).split(separator: "\n").first?.prefix(200) ?? "")
    }

    /// A body read whole, up to `limit` bytes (nil when it is longer or fails).
    static func collect(_ body: HTTPClientResponse.Body, limit: Int) async -> [UInt8]? {
        var bytes: [UInt8] = []
        do {
            for try await chunk in body {
                guard bytes.count + chunk.readableBytes <= limit else { return nil }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
        } catch {
            return nil
        }
        return bytes
    }

    /// The XML answer of a request, read whole (bounded), or a malformed-answer error.
    func document(_ response: HTTPClientResponse, operation: String, limit: Int = 4 << 20) async throws(S3Error) -> [UInt8] {
        guard let bytes = await Self.collect(response.body, limit: limit) else {
            throw S3Error(kind: .malformed, message: "the answer was cut short or too long", operation: operation)
        }
        return bytes
    }
}
