import HTTPTypes
import Testing
import WarrenCore
@testable import WarrenServer

/// The engine's error kinds as HTTP statuses: only a true absence may be 404 or 410,
/// because the go command moves on to the next GOPROXY entry on exactly those.
@Suite struct ProxyErrorStatusTests {
    static let expected: [(ProxyError.Kind, Int)] = [
        (.badRequest, 400), (.forbidden, 403), (.notFound, 404), (.gone, 410),
        (.upstreamFailed, 502), (.upstreamTimedOut, 504), (.internalFailure, 500), (.unavailable, 503),
    ]

    @Test(arguments: expected)
    func eachKindHasItsStatus(kind: ProxyError.Kind, status: Int) {
        #expect(ProxyError(kind, "x").statusCode == status)
        #expect(ProxyError(kind, "x").isNotFound == (status == 404 || status == 410))
        #expect(ProxyError(kind, "x").isServerSide == (status >= 500))
    }

    @Test func errorAnswersAreOneLineOfTextWithTheKindsStatus() async throws {
        let response = ProxyResponder.error(.upstreamFailed("upstream a failed\nsecret second line"))
        #expect(response.status == .badGateway)
        #expect(response.headers[.contentType] == "text/plain; charset=utf-8")
    }
}
