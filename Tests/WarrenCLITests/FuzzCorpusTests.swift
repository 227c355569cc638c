import Foundation
import Testing

/// The fuzzing corpus of raw request bytes (Fuzz/corpus, seeds and whatever
/// scripts/fuzz.sh found worth keeping) replayed through the connection pipeline by the
/// fuzz target's replay build: every input that once found new code must still pass.
@Suite struct FuzzCorpusTests {
    @Test(arguments: [("http-request", "FuzzHTTPRequest"), ("parsers", "FuzzParsers")])
    func corpusReplays(_ name: String, _ executable: String) throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Fuzz/corpus/" + name).standardized.path
        let count = try FileManager.default.contentsOfDirectory(atPath: corpus).count
        #expect(count >= 9)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: WarrenBinary.builtExecutable(executable))
        process.arguments = [corpus]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("replayed \(count) inputs"), "\(text)")
    }
}
