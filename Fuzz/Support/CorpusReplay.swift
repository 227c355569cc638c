import Foundation

/// What a fuzz target does when built normally: runs every file named on the command
/// line (or in a directory named there) through `run` once, and says how many. The test
/// suite replays the committed corpora this way (FuzzCorpusTests).
public enum CorpusReplay {
    public static func main(_ run: ([UInt8]) -> Void) throws {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let files = isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { path + "/" + $0 }
                : [path]
            for file in files {
                run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }
}
