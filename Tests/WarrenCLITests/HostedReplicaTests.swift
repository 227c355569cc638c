import Foundation
import TestServers
import Testing

/// Publishing to a cluster: two replicas on one bucket and one PostgreSQL database share
/// the hosted modules and Warren's checksum database. Racing publishes of one version
/// through both store exactly one; publishes of many versions at once all land in one
/// log whose audit passes and which x/mod's client proves through either replica.
@Suite struct HostedReplicaTests {
    static let name = "sum.cluster.test"

    @Test func replicasPublishInTurnIntoOneChecksumDatabase() async throws {
        let scratch = ScratchDirectory()
        let keyFile = scratch.path + "/signer.key"
        var databaseURL = ""
        var verifierKey = ""
        let cluster = try await ReplicaTests.cluster(upstream: "off", count: 2) { url in
            databaseURL = url
            let made = try await WarrenBinary.run(["sumdb", "init", "--name", Self.name, "--database", url, "--key-file", keyFile,
                                                   "--data-dir", scratch.path + "/init"], environment: ["PATH": "/usr/bin:/bin"])
            #expect(made.status == 0, "\(made.stderr)")
            verifierKey = made.stdout.split(separator: "\n").first { $0.hasPrefix("verifier key: ") }.map { String($0.dropFirst(14)) } ?? ""
            return ["--hosted", "go.corp.test/*", "--sumdb-key", keyFile, "--sumdb", "off",
                    "--permissions", "user:ci publish go.corp.test/*; anonymous read go.corp.test/*"]
        }
        defer { cluster.stop() }
        let (database, key) = (databaseURL, verifierKey)
        let token = try await offThread { try WarrenBinary.run(["token", "create", "--database", database, "--user", "ci"]) }
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let module = "go.corp.test/shared"

        func put(_ zip: String, _ version: String, through replica: Int) async throws -> (status: Int, body: String) {
            let r = try await ExternalCommand.run("/usr/bin/curl", [
                "-sS", "-w", "\n%{http_code}", "-u", "ci:" + token, "-X", "PUT", "--data-binary", "@" + zip,
                "\(cluster.replicas[replica].url)/api/v1/modules/\(module)/@v/\(version).zip",
            ], environment: ["PATH": "/usr/bin:/bin"])
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
        }
        func zip(_ name: String, _ version: String, greeting: String) async throws -> String {
            let dir = scratch.path + "/src-" + name
            try PublishTests.writeModule(dir, module: module, greeting: greeting)
            let out = scratch.path + "/\(name).zip"
            let r = try await offThread { try WarrenBinary.run(["mod", "zip", dir, "\(module)@\(version)", out]) }
            #expect(r.status == 0, "\(r.stderr)")
            return out
        }

        // Six different zips of one version, through both replicas at once: one is stored.
        var contenders: [String] = []
        for i in 0..<6 { contenders.append(try await zip("race\(i)", "v1.0.0", greeting: "contender \(i)")) }
        let race = try await withThrowingTaskGroup(of: (status: Int, body: String).self) { group in
            for (i, file) in contenders.enumerated() { group.addTask { try await put(file, "v1.0.0", through: i % 2) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(race.filter { $0.status == 201 }.count == 1 && race.filter { $0.status == 409 }.count == 5, "\(race)")

        // Twenty versions at once, alternating replicas: every one lands, in one log.
        var versions: [(String, String)] = []
        for i in 1...20 { versions.append(("v1.0.\(i)", try await zip("v\(i)", "v1.0.\(i)", greeting: "version \(i)"))) }
        let published = try await withThrowingTaskGroup(of: Int.self) { group in
            for (i, (version, file)) in versions.enumerated() { group.addTask { try await put(file, version, through: i % 2).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(published.allSatisfy { $0 == 201 }, "\(published)")
        for replica in cluster.replicas {
            let list = try await HTTP.get(replica.url + "/\(module)/@v/list").text
            #expect(list.split(separator: "\n").count == 21, "\(list)")
        }
        let audit = try await WarrenBinary.run(["sumdb", "audit", "--database", database, "--key", key], environment: ["PATH": "/usr/bin:/bin"])
        #expect(audit.status == 0 && audit.stdout.contains("holds 21 records"), "\(audit.stdout) \(audit.stderr)")
        for replica in cluster.replicas {
            let proved = try await SumDBClientTool.check(url: replica.url + "/sumdb/" + Self.name, key: key, ["\(module)@v1.0.7"])
            #expect(proved.status == 0 && proved.stdout.contains("log ok 21 records"), "\(proved.stdout) \(proved.stderr)")
        }
        // The go command, through the other replica, verifies against the shared log.
        let go = GoClient(proxy: cluster.replicas[1].url, environment: ["GOSUMDB": key, "GONOSUMDB": "", "GOPRIVATE": ""])
        let download = try await go.run(["mod", "download", "\(module)@v1.0.7", "\(module)@v1.0.0"])
        #expect(download.status == 0, "\(download.stderr)")
    }
}
