import ArgumentParser
import GoModule

struct ModHashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print the go.sum line (h1: hash) of a module zip or a go.mod file.",
        discussion: """
        For a zip, the module and version come from its module@version/ prefix. For a \
        go.mod, the module comes from its module directive and the version from \
        --version; without one, only the hash is printed.
        """
    )

    @Argument(help: "A module zip or a go.mod file.")
    var file: String

    @Option(help: "The version a go.mod belongs to, for the go.sum line.")
    var version: String?

    func run() throws {
        do {
            if file.hasSuffix(".zip") {
                let reader = try ZipReader(path: file)
                let hash = try Hash1.hashZip(reader)
                if let (path, version) = Self.modulePrefix(reader.entries.map(\.name)) {
                    print("\(path) \(version) \(hash)")
                } else {
                    print(hash)
                }
            } else {
                let bytes = try ReadableFile.readAll(path: file, limit: Int(ModuleZipRules.maxGoMod))
                let hash = Hash1.hashGoMod(bytes)
                if let version, let path = GoModParser.modulePath(String(decoding: bytes, as: UTF8.self)) {
                    print("\(path) \(version)/go.mod \(hash)")
                } else {
                    print(hash)
                }
            }
        } catch {
            printError("warren mod hash: \(error)")
            throw ExitCode(1)
        }
    }

    /// The `module@version` shared by every entry name, if there is one.
    static func modulePrefix(_ names: [String]) -> (String, String)? {
        // The prefix ends at the first slash after the `@`.
        guard let first = names.first, let at = first.firstIndex(of: "@"),
              let end = first[at...].firstIndex(of: "/") else { return nil }
        let prefix = String(first[...end])
        guard names.allSatisfy({ $0.hasPrefix(prefix) }) else { return nil }
        return (String(first[..<at]), String(first[first.index(after: at)..<end]))
    }
}
