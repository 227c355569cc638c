import Foundation
import Testing
@testable import WarrenCore

/// LocalDiskStorage against the storage compliance suite.
@Suite struct LocalDiskStorageComplianceTests {
    static let compliance = ArtifactStorageCompliance(
        make: {
            try LocalDiskStorage(root: FileManager.default.temporaryDirectory.path + "/warren-storage-\(UUID().uuidString)")
        },
        reopen: { storage in
            guard let disk = storage as? LocalDiskStorage else { throw POSIXError(.EINVAL) }
            return try LocalDiskStorage(root: disk.root)
        },
        recover: { storage in
            guard let disk = storage as? LocalDiskStorage else { throw POSIXError(.EINVAL) }
            return try disk.sweepLeftovers()
        }
    )

    @Test(arguments: ArtifactStorageCompliance.Check.allCases)
    func compliance(_ check: ArtifactStorageCompliance.Check) async throws {
        try await Self.compliance.run(check)
    }
}

/// The start-up sweep removes what dead writers left, never another live process's
/// staging file (two processes may share a data directory for a moment).
@Suite struct LeftoverSweepTests {
    @Test func onlyDeadWritersFilesAreRemoved() throws {
        let root = FileManager.default.temporaryDirectory.path + "/warren-sweep-\(UUID().uuidString)"
        let storage = try LocalDiskStorage(root: root)
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/example.com/m/@v", withIntermediateDirectories: true)
        // pid 1 is alive (init); a pid past the kernel's limit never is.
        let live = root + "/example.com/m/@v/v1.0.0.zip.tmp-1-42"
        let dead = root + "/example.com/m/@v/v1.0.0.zip.tmp-99999999-42"
        let own = root + "/example.com/m/@v/v1.0.0.mod.tmp-\(getpid())-7"
        for path in [live, dead, own] { FileManager.default.createFile(atPath: path, contents: Data([1])) }
        #expect(try storage.sweepLeftovers() == 2)
        #expect(FileManager.default.fileExists(atPath: live), "a live process's staging file was removed")
        #expect(!FileManager.default.fileExists(atPath: dead) && !FileManager.default.fileExists(atPath: own))
    }
}
