import Foundation

/// `warren doctor` for people: concise, in the order a developer reads it — what the
/// go command will do, then what is wrong and the command that fixes it.
public enum DoctorTextRenderer {
    public static func render(_ report: DoctorReport, style: TerminalStyle) -> String {
        var out = ""
        var source = report.goCommand.map { "go env -json from \($0)" } ?? "environment and go env file (no go command on PATH)"
        if let f = report.envFile { source += "; go env -w file: \(f)" }
        out += style.bold("Go environment") + " " + style.dim("(\(source))") + "\n"
        for key in GoEnvironment.moduleVariables {
            guard let s = report.settings[key], !(s.value.isEmpty && s.source == .defaultValue) else { continue }
            out += "  \(TerminalStyle.pad(key, 12)) \(s.value.isEmpty ? "(empty)" : s.value)  \(style.dim("[\(s.source.rawValue)]"))\n"
        }
        for (key, value) in report.processVariables.sorted(by: { $0.key < $1.key }) {
            out += "  \(TerminalStyle.pad(key, 12)) \(value)  \(style.dim("[environment]"))\n"
        }
        out += "\n" + style.bold("Proxies, in the order the go command asks them") + "\n"
        var n = 0
        for p in report.proxies where !p.ignored {
            n += 1
            let netrc = p.netrcEntry.map { $0 ? "  .netrc: yes" : "  .netrc: no" } ?? ""
            out += "  \(n). \(TerminalStyle.pad(p.entry, 36)) \(p.fallThrough)\(style.dim(netrc))\n"
        }
        let ignored = report.proxies.filter(\.ignored)
        if !ignored.isEmpty {
            out += "     " + style.dim("never reached: " + ignored.map(\.entry).joined(separator: ", ")) + "\n"
        }
        out += "  checksum database: \(report.checksumDatabase)\n"
        if let netrc = report.netrcFile { out += "  .netrc: \(netrc)\n" }
        for o in report.observations {
            let what: String
            if let f = o.failure { what = style.red(f.message) } else if let s = o.status { what = "\(s)" + (o.contentType.map { " \($0)" } ?? "") } else { what = "?" }
            out += "  " + style.dim("checked \(o.url): ") + what + style.dim(String(format: " (%.0f ms)", o.timings.totalMs ?? 0)) + "\n"
        }
        out += "\n"
        if report.findings.isEmpty {
            out += style.green("✓ no problems found") + "\n"
            return out
        }
        out += style.bold("Findings") + "\n"
        for f in report.findings {
            out += "  \(style.severity(f.severity)) \(f.summary)  \(style.dim("[\(f.code)]"))\n"
            out += "      why: \(f.detail)\n"
            if let fix = f.fix { out += "      fix: \(style.bold(fix))\n" }
        }
        out += "\n" + summaryLine(report.findings, style: style) + "\n"
        return out
    }

    static func summaryLine(_ findings: [Finding], style: TerminalStyle) -> String {
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        let notes = findings.filter { $0.severity == .info }.count
        if errors + warnings == 0 { return style.green("✓ no problems found") + " (\(notes) note\(notes == 1 ? "" : "s"))" }
        let text = "\(errors + warnings) problem\(errors + warnings == 1 ? "" : "s") found (\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")), \(notes) note\(notes == 1 ? "" : "s")"
        return errors > 0 ? style.red(text) : style.yellow(text)
    }

    public static func render(_ route: RouteExplanation, style: TerminalStyle) -> String {
        var out = style.bold("Where the go command sends \(route.module)\(route.version.map { "@" + $0 } ?? "")") + "\n"
        for (i, step) in route.steps.enumerated() {
            out += "  \(i + 1). \(style.bold(step.target))\n"
            out += "     why: \(step.reason)\n"
            out += "     if it fails: \(step.onFailure)\n"
        }
        out += "  checksum database: \(route.checksumDatabase.map { style.bold($0) + " — " } ?? "")\(route.checksumReason)\n"
        for note in route.notes { out += "  note: \(note)\n" }
        return out
    }

    public static func render(probes: [EndpointProbe], style: TerminalStyle) -> String {
        var out = ""
        for p in probes {
            out += style.bold("\(p.url)") + style.dim(" (\(p.kind)\(p.address.map { ", \($0)" } ?? ""))") + "\n"
            let t = p.connection
            var phases: [String] = []
            if let v = t.dnsMs { phases.append(String(format: "DNS %.1f ms", v)) }
            if let v = t.connectMs { phases.append(String(format: "connect %.1f ms", v)) }
            if let v = t.tlsMs { phases.append(String(format: "TLS %.1f ms", v)) }
            if let v = t.firstByteMs { phases.append(String(format: "first byte %.1f ms", v)) }
            if !phases.isEmpty { out += "  " + phases.joined(separator: " · ") + "\n" }
            if let tls = p.tls {
                out += "  \(tls.version ?? "TLS") \(tls.cipher ?? "")  " + (tls.verified ? style.green("certificate OK") : style.red("certificate: \(tls.problemDetail ?? "not trusted")")) + "\n"
                for (i, c) in tls.chain.enumerated() {
                    out += style.dim("    \(i == 0 ? "leaf" : "ca  ") \(c.subject) ← \(c.issuer), expires \(c.notAfter) (\(c.daysLeft) days)\(c.dnsNames.isEmpty ? "" : ", for " + c.dnsNames.joined(separator: " "))") + "\n"
                }
            }
            if let f = p.failure { out += "  " + style.red("✗ \(f.message)") + "\n" }
            for c in p.checks {
                let mark = c.ok ? style.green("✓") : style.red("✗")
                let ms = c.timings.totalMs.map { String(format: "%.0f ms", $0) } ?? ""
                out += "  \(mark) \(TerminalStyle.pad(c.name, 16)) \(TerminalStyle.pad(c.status.map(String.init) ?? "-", 4)) \(TerminalStyle.pad(c.note, 44)) \(style.dim(ms))\n"
            }
            for f in p.problems {
                out += "  \(style.severity(f.severity)) \(f.summary)\n      why: \(f.detail)\n"
                if let fix = f.fix { out += "      fix: \(style.bold(fix))\n" }
            }
            out += "\n"
        }
        let problems = probes.flatMap(\.problems)
        out += summaryLine(problems, style: style) + "\n"
        return out
    }
}
