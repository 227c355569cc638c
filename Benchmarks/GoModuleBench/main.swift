import Foundation
import GoModule

// Times GoModule's zip creation and h1: hashing on real module trees, and the go command's
// own code (golang.org/x/mod, through Tools/goref) on the same trees in the same run.
//
//   gomodule-bench GOREF ROUNDS [DIR MODULE VERSION]...
//
// Prints a Markdown table of medians; run it through scripts/bench-gomodule.sh.

struct Row {
    var module: String
    var files: Int
    var zipBytes: UInt64
    var warrenCreate: Double
    var goCreate: Double
    var warrenHash: Double
    var goHash: Double
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s[s.count / 2]
}

func milliseconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000
}

func goReference(_ goref: String, _ args: [String]) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: goref)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw CocoaError(.executableLoad) }
    return String(decoding: data, as: UTF8.self)
}

let args = CommandLine.arguments
guard args.count >= 6, (args.count - 3) % 3 == 0, let rounds = Int(args[2]) else {
    FileHandle.standardError.write(Data("usage: gomodule-bench GOREF ROUNDS DIR MODULE VERSION [...]\n".utf8))
    exit(2)
}
let goref = args[1]
let scratch = FileManager.default.temporaryDirectory.path + "/gomodule-bench-\(getpid())"
try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: scratch) }

var rows: [Row] = []
var i = 3
while i + 2 < args.count {
    let (dir, module, version) = (args[i], args[i + 1], args[i + 2])
    i += 3
    let zipPath = scratch + "/m.zip"
    var create: [Double] = [], hash: [Double] = []
    var last: ModuleZipWriter.Result?
    for round in 0...rounds {
        try? FileManager.default.removeItem(atPath: zipPath)
        let c = try milliseconds {
            let file = try WritableFile(creating: zipPath)
            last = try ModuleZipWriter.create(module: module, version: version, directory: dir, to: file)
        }
        var h1 = ""
        let h = try milliseconds { h1 = try Hash1.hashZip(path: zipPath) }
        precondition(h1 == last?.hash, "hash mismatch")
        if round > 0 {  // the first round warms the file cache
            create.append(c)
            hash.append(h)
        }
    }
    let goTimes = try goReference(goref, ["bench", module, version, dir, String(rounds)])
        .split(separator: " ").compactMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    let goHash = try goReference(goref, ["zipdir", module, version, dir, scratch + "/go.zip"]).trimmingCharacters(in: .whitespacesAndNewlines)
    precondition(goHash == last?.hash, "Warren and the go command disagree on \(module)@\(version)")
    rows.append(Row(module: "\(module)@\(version)", files: last?.files.count ?? 0, zipBytes: last?.zipSize ?? 0,
                    warrenCreate: median(create), goCreate: goTimes[0], warrenHash: median(hash), goHash: goTimes[1]))
}

func f(_ x: Double) -> String { String(format: "%.1f", x) }
print("| module | files | zip | create: Warren | create: Go | speed-up | h1 hash: Warren | h1 hash: Go | speed-up |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows {
    print("| \(r.module) | \(r.files) | \(String(format: "%.1f MiB", Double(r.zipBytes) / 1_048_576)) | \(f(r.warrenCreate)) ms | \(f(r.goCreate)) ms | \(String(format: "%.2f×", r.goCreate / r.warrenCreate)) | \(f(r.warrenHash)) ms | \(f(r.goHash)) ms | \(String(format: "%.2f×", r.goHash / r.warrenHash)) |")
}
