import AsyncHTTPClient
import Foundation
import NIOCore

/// The one request every OAuth2 login makes: a form POSTed to the provider's token
/// endpoint, its JSON answer read (at most 1 MiB).
public enum OAuthTokenRequest {
    /// - Parameter provider: how the failure names the provider ("GitHub", "the provider").
    public static func post(_ url: String, form: [(String, String)], headers: [(String, String)] = [], http: HTTPClient,
                            provider: String) async throws -> (status: Int, json: [String: Any]?) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: FormEncoding.form(form)))
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(15))
        } catch {
            throw LoginFailure("\(provider)'s token endpoint cannot be reached: \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        return (Int(response.status.code), json)
    }
}
