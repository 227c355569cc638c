import Foundation

/// `postgres://USER:PASSWORD@HOST:PORT/DATABASE?sslmode=disable|prefer|require`, read
/// into its parts. The password never reaches `displayName`.
struct PostgresURL {
    var host: String
    var port: Int
    var user: String
    var password: String?
    var database: String?
    var disableTLS = false
    var requireTLS = false

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme, scheme == "postgres" || scheme == "postgresql" else {
            throw Invalid(description: "want postgres://USER:PASSWORD@HOST:PORT/DATABASE")
        }
        guard let host = url.host, !host.isEmpty else { throw Invalid(description: "no host in the database URL") }
        self.host = host
        self.port = url.port ?? 5432
        self.user = url.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        self.password = url.password.flatMap { $0.removingPercentEncoding }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.database = path.isEmpty ? nil : path
        for item in url.queryItems ?? [] where item.name == "sslmode" {
            switch item.value {
            case "disable": disableTLS = true
            case "require", "verify-ca", "verify-full": requireTLS = true
            case "prefer", "allow", nil: break
            default: throw Invalid(description: "sslmode must be disable, prefer or require")
            }
        }
    }

    var displayName: String { "postgres://\(user)@\(host):\(port)/\(database ?? "")" }
}
