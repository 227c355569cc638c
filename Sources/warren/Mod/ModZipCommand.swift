import ArgumentParser
import GoModule

struct ModZipCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zip",
        abstract: "Create the module zip of a directory, exactly as the go command would.",
        discussion: """
        Applies every module zip rule (vendor directories, nested modules, symlinks, \
        file name and size limits) and prints the zip's go.sum line. The zip is written \
        atomically: OUT.zip appears only when complete.
        """
    )

    @Argument(help: "The module's root directory.")
    var directory: String

    @Argument(help: "The module path and version, e.g. example.com/tool@v1.2.3.")
    var module: ModuleAtVersion

    @Argument(help: "The zip file to write.")
    var output: String

    @Flag(name: .shortAndLong, help: "List the files left out, with the reason.")
    var verbose = false

    func run() throws {
        if verbose {
            let checked = try ModuleDirectory.check(directory)
            for omitted in checked.omitted { printError("omitted \(omitted)") }
        }
        let writer = try AtomicFileWriter(destination: output)
        do {
            let result = try ModuleZipWriter.create(module: module.path, version: module.version,
                                                    directory: directory, to: writer.file)
            try writer.commit()
            print("\(module.path) \(module.version) \(result.hash)")
        } catch {
            writer.abandon()
            printError("warren mod zip: \(error)")
            throw ExitCode(1)
        }
    }
}
