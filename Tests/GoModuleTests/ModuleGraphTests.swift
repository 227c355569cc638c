import GoModule
import Testing

/// Minimal version selection over an in-memory graph: the highest version of each path
/// wins, every go.mod the graph reaches is read once, and the main module's replace and
/// exclude directives apply (a directory replacement is not fetched).
@Suite struct ModuleGraphTests {
    static let goMods: [String: String] = [
        "a.example/a@v1.0.0": "module a.example/a\nrequire b.example/b v1.1.0\n",
        "a.example/a@v1.2.0": "module a.example/a\nrequire (\n\tb.example/b v1.2.0\n\tc.example/c v0.1.0\n)\n",
        "b.example/b@v1.1.0": "module b.example/b\nrequire c.example/c v0.3.0\n",
        "b.example/b@v1.2.0": "module b.example/b\n",
        "c.example/c@v0.1.0": "module c.example/c\n",
        "c.example/c@v0.3.0": "module c.example/c\n",
        "fork.example/d@v2.0.0": "module fork.example/d\n",
    ]

    static func walk(_ main: String) async throws -> ModuleGraph {
        let file = try GoModParser.parse(main)
        return await ModuleGraph.walk(main: file, concurrency: 2) { node in
            guard let text = goMods["\(node.path)@\(node.version)"] else { throw NotThere(node: "\(node.path)@\(node.version)") }
            return try GoModParser.parse(text)
        }
    }

    struct NotThere: Error, CustomStringConvertible {
        let node: String
        var description: String { "\(node) is not there" }
    }

    @Test func theHighestVersionOfEachPathIsSelected() async throws {
        let graph = try await Self.walk("module main.example\nrequire (\n\ta.example/a v1.0.0\n\ta.example/a v1.2.0\n)\n")
        #expect(graph.selected.map { "\($0.path)@\($0.version)" } == ["a.example/a@v1.2.0", "b.example/b@v1.2.0", "c.example/c@v0.3.0"])
        // b v1.1.0 is read (it raises c to v0.3.0) though b v1.2.0 is selected.
        #expect(graph.visited.map { "\($0.path)@\($0.version)" } == [
            "a.example/a@v1.0.0", "a.example/a@v1.2.0", "b.example/b@v1.1.0", "b.example/b@v1.2.0", "c.example/c@v0.1.0", "c.example/c@v0.3.0",
        ])
        #expect(graph.failures.isEmpty)
    }

    @Test func replaceAndExcludeOfTheMainModuleApply() async throws {
        let graph = try await Self.walk("""
            module main.example
            require (
            \ta.example/a v1.0.0
            \td.example/d v1.0.0
            \te.example/e v1.0.0
            )
            exclude c.example/c v0.3.0
            replace d.example/d => fork.example/d v2.0.0
            replace e.example/e v1.0.0 => ../e

            """)
        let selected = graph.selected.map { "\($0.path)@\($0.version)" }
        // c v0.3.0 is excluded; d comes from the fork; e is a directory, never fetched.
        #expect(selected == ["a.example/a@v1.0.0", "b.example/b@v1.1.0", "fork.example/d@v2.0.0"], "\(selected)")
        #expect(!graph.visited.contains { $0.path == "e.example/e" || $0.path == "d.example/d" })
        #expect(graph.failures.isEmpty)
    }

    @Test func unreadableGoModsAreReported() async throws {
        let graph = try await Self.walk("module main.example\nrequire z.example/z v1.0.0\n")
        #expect(graph.failures.map { "\($0.node.path)@\($0.node.version)" } == ["z.example/z@v1.0.0"])
        #expect(graph.selected.map(\.path) == ["z.example/z"])
    }

    @Test func replaceDirectivesParse() throws {
        let file = try GoModParser.parse("module m\nreplace (\n\tx.example/x v1.0.0 => y.example/y v1.1.0\n\tz.example/z => ./z\n)\n")
        #expect(file.replacements == [
            GoModFile.Replacement(oldPath: "x.example/x", oldVersion: "v1.0.0", newPath: "y.example/y", newVersion: "v1.1.0"),
            GoModFile.Replacement(oldPath: "z.example/z", oldVersion: nil, newPath: "./z", newVersion: nil),
        ])
        #expect(file.replaced("x.example/x", "v1.0.0")! == ("y.example/y", "v1.1.0"))
        #expect(file.replaced("x.example/x", "v2.0.0")! == ("x.example/x", "v2.0.0"))
        #expect(file.replaced("z.example/z", "v1.0.0") == nil)
        #expect(throws: GoModSyntaxError.self) { try GoModParser.parse("module m\nreplace x.example/x v1.0.0\n") }
    }
}
