import Foundation

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = LogBuffer()
        err.fileHandleForReading.readabilityHandler = { h in errData.append(h.availableData) }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        err.fileHandleForReading.readabilityHandler = nil
        errData.append(err.fileHandleForReading.readDataToEndOfFile())
        return WarrenBinary.Output(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: errData.text)
    }
}
