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
