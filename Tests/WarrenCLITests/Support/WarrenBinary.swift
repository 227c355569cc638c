import Foundation
import TestServers

/// Runs the built `warren` executable as a user would.
enum WarrenBinary {
    /// The `warren` binary next to the test bundle in the build folder.
    static var path: String { builtExecutable("warren") }

    /// An executable of this package, next to the test bundle in the build folder.
    static func builtExecutable(_ name: String) -> String {
        let bundleDir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for candidate in [bundleDir, bundleDir.deletingLastPathComponent()] {
            let p = candidate.appendingPathComponent(name).path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name).path
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let result = try TestProcess.run(path, arguments)
        return Output(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}

final class ScratchDirectory: @unchecked Sendable {
    let path = FileManager.default.temporaryDirectory.path + "/warren-cli-\(UUID().uuidString)"
    init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ relative: String, _ text: String) throws {
        let url = URL(fileURLWithPath: path + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }
}

extension WarrenBinary {
    /// Runs `warren` with exactly this environment, off the concurrency runtime's threads.
    static func run(_ arguments: [String], environment: [String: String], in directory: String? = nil) async throws -> Output {
        try await ExternalCommand.run(path, arguments, environment: environment, in: directory)
    }
}

/// Any program with a given environment.
enum ExternalCommand {
    /// On a thread of its own: the servers the program talks to may live in this test
    /// process and need the concurrency runtime's few threads.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String], in directory: String? = nil) async throws -> WarrenBinary.Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runBlocking(executable, arguments, environment: environment, in: directory) })
            }.start()
        }
    }

    /// Waits for the program, draining stdout and stderr at once so neither pipe fills.
    static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String], in directory: String?) throws -> WarrenBinary.Output {
        let result = try TestProcess.run(executable, arguments, environment: environment, directory: directory)
        return WarrenBinary.Output(status: result.status, stdout: result.stdout, stderr: result.stderr)
    }
}
