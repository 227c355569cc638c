import Foundation
import TestServers
import Testing

/// The shipped deployment files, checked with the tools their platforms use, offline:
/// the systemd unit with `systemd-analyze verify` and `security --offline` (its exposure
/// score stays low), the Kustomize overlays rendered by `kubectl kustomize` and
/// validated against the Kubernetes schemas by kubernetes-validate, and the
/// configuration they ship accepted by the real `warren serve`.
@Suite struct DeploymentTests {
    static let deploy = PrometheusTests.deploy
    static let venv = URL(fileURLWithPath: deploy).deletingLastPathComponent().path + "/.build/test-python/bin"

    @Test func theSystemdUnitVerifiesAndIsHardened() async throws {
        let scratch = ScratchDirectory()
        // As installed, with the binary where this test built it.
        let unit = try String(contentsOfFile: Self.deploy + "/systemd/warren.service", encoding: .utf8)
            .replacingOccurrences(of: "/usr/local/bin/warren", with: WarrenBinary.path)
        try Data(unit.utf8).write(to: URL(fileURLWithPath: scratch.path + "/warren.service"))
        let verify = try await ExternalCommand.run("/usr/bin/systemd-analyze", ["verify", scratch.path + "/warren.service"],
                                                   environment: ["PATH": "/usr/bin:/bin"])
        #expect(verify.status == 0 && verify.stderr.isEmpty, "\(verify.stdout) \(verify.stderr)")
        let security = try await ExternalCommand.run("/usr/bin/systemd-analyze", ["security", "--offline=true", "--no-pager",
                                                                                  scratch.path + "/warren.service"],
                                                     environment: ["PATH": "/usr/bin:/bin"])
        let overall = security.stdout.split(separator: "\n").first { $0.contains("Overall exposure level") }
        // "→ Overall exposure level for warren.service: 1.5 OK :-)"
        var score: Double?
        if let line = overall, let range = line.range(of: "warren.service: ") {
            score = line[range.upperBound...].split(separator: " ").first.flatMap { Double($0) }
        }
        #expect((score ?? 99) <= 1.5, "\(overall ?? "no score") \(security.stderr)")
        for setting in ["DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=warren", "NoNewPrivileges=yes",
                        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"] {
            #expect(unit.contains(setting), "\(setting)")
        }
    }

    @Test(arguments: ["single-node", "cluster"])
    func theKubernetesOverlaysRenderAndValidate(overlay: String) async throws {
        let kubectl = ["/usr/bin/kubectl", "/usr/local/bin/kubectl"].first(where: FileManager.default.isExecutableFile(atPath:)) ?? "kubectl"
        let rendered = try await ExternalCommand.run(kubectl, ["kustomize", Self.deploy + "/kubernetes/overlays/" + overlay],
                                                     environment: ["PATH": "/usr/bin:/bin", "HOME": FileManager.default.temporaryDirectory.path])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        let scratch = ScratchDirectory()
        let manifest = scratch.path + "/\(overlay).yaml"
        try Data(rendered.stdout.utf8).write(to: URL(fileURLWithPath: manifest))
        let valid = try await ExternalCommand.run(Self.venv + "/kubernetes-validate", ["-k", "1.30.0", "--strict", manifest],
                                                  environment: ["PATH": "/usr/bin:/bin"])
        #expect(valid.status == 0, "\(valid.stdout) \(valid.stderr)")
        let text = rendered.stdout
        for needed in ["kind: Deployment", "kind: Service", "kind: PodDisruptionBudget", "kind: ConfigMap", "path: /healthz", "path: /readyz",
                       "runAsNonRoot: true", "readOnlyRootFilesystem: true", "name: warren-secrets"] {
            #expect(text.contains(needed), "\(overlay) lacks \(needed)")
        }
        if overlay == "cluster" {
            #expect(text.contains("kind: HorizontalPodAutoscaler") && text.contains("replicas: 3") && text.contains("storage: s3://"))
        } else {
            #expect(text.contains("kind: PersistentVolumeClaim") && text.contains("claimName: warren-data") && text.contains("type: Recreate"))
        }
    }

    /// The configuration the single-node overlay ships is one `warren serve` starts with.
    @Test func theShippedConfigurationStartsWarren() async throws {
        let scratch = ScratchDirectory()
        let configMap = try String(contentsOfFile: Self.deploy + "/kubernetes/base/configmap.yaml", encoding: .utf8)
        // The file inside the ConfigMap (indented under `warren.yaml: |`).
        let lines = configMap.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(where: { $0.contains("warren.yaml: |") }) else { Issue.record("no warren.yaml"); return }
        let body = lines[(start + 1)...].prefix { $0.hasPrefix("    ") }.map { String($0.dropFirst(4)) }.joined(separator: "\n")
        try Data((body + "\n").utf8).write(to: URL(fileURLWithPath: scratch.path + "/warren.yaml"))
        let warren = try await WarrenServerProcess.start(arguments: ["--config", scratch.path + "/warren.yaml", "--upstream", "off"],
                                                         dataDir: scratch.path + "/data")
        defer { _ = warren.stop() }
        #expect(try await HTTP.get(warren.url + "/readyz").status == 200)
    }
}
