import ArgumentParser
import GoModule

/// `warren mod …`: package and audit module zips exactly as the go command would.
struct ModCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mod",
        abstract: "Create, hash and check Go module zips.",
        subcommands: [ModZipCommand.self, ModHashCommand.self, ModCheckCommand.self]
    )
}

/// A `module@version` argument, validated.
struct ModuleAtVersion: ExpressibleByArgument {
    let path: String
    let version: String

    init?(argument: String) {
        guard let at = argument.lastIndex(of: "@") else { return nil }
        path = String(argument[..<at])
        version = String(argument[argument.index(after: at)...])
        guard !path.isEmpty, !version.isEmpty else { return nil }
    }

    static var defaultValueDescription: String { "module@version" }
}

/// Prints to standard error.
func printError(_ message: String) {
    var stderr = StandardError()
    print(message, to: &stderr)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleWriter.writeToStandardError(string)
    }
}
