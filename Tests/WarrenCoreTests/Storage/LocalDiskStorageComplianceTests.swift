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

    @Test func missingKeysAreAbsent() async throws { try await Self.compliance.missingKeysAreAbsent() }
    @Test func smallArtifactsRoundTripWithMetadata() async throws { try await Self.compliance.smallArtifactsRoundTripWithMetadata() }
    @Test func stagedArtifactsAreInvisibleUntilCommitted() async throws { try await Self.compliance.stagedArtifactsAreInvisibleUntilCommitted() }
    @Test func discardedStagingLeavesNothing() async throws { try await Self.compliance.discardedStagingLeavesNothing() }
    @Test func concurrentCommitsOfOneKeyAreHarmless() async throws { try await Self.compliance.concurrentCommitsOfOneKeyAreHarmless() }
    @Test func anOpenArtifactStaysReadableWhenReplaced() async throws { try await Self.compliance.anOpenArtifactStaysReadableWhenReplaced() }
    @Test func aCrashBetweenStagingAndCommitLeavesNothingServed() async throws {
        try await Self.compliance.aCrashBetweenStagingAndCommitLeavesNothingServed()
    }
}
