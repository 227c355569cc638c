import ArgumentParser
import GoModule

struct ModCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check that a zip is a valid module zip for module@version.",
        discussion: """
        Applies the go command's module zip rules, then reads every entry (sizes and \
        checksums must match their headers). Prints the zip's go.sum line and exits 0 \
        when valid; prints each problem and exits 1 otherwise.
        """
    )

    @Argument(help: "The module path and version the zip must hold.")
    var module: ModuleAtVersion

    @Argument(help: "The zip file to check.")
    var file: String

    func run() throws {
        do {
            let verified = try ModuleZipChecker.verify(module: module.path, version: module.version, zipPath: file)
            print("\(module.path) \(module.version) \(verified.hash)")
        } catch {
            printError("\(file): not a valid module zip for \(module.path)@\(module.version):")
            printError("\(error)")
            throw ExitCode(1)
        }
    }
}
