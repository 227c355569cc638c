import Foundation
import TestServers
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
        let result = try TestProcess.run(WarrenBinary.builtExecutable(executable), [corpus])
        let text = result.stdout
        #expect(result.status == 0)
        #expect(text.contains("replayed \(count) inputs"), "\(text)")
    }
}
