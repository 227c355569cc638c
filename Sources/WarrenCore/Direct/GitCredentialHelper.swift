import GoModule

/// Hands per-host credentials to git without putting them on a command line: the
/// secrets travel in environment variables of the git process, and a credential helper
/// (configured through `GIT_CONFIG_COUNT`, so also not in argv) prints the ones for the
/// host git asks about. git's own error messages never contain them, and Warren's logs
/// only ever see the helper's variable names.
enum GitCredentialHelper {
    /// The shell helper: reads git's `host=` line and answers from WARREN_CREDENTIAL_*_N
    /// whose host equals it (or its hostname, for entries without a port).
    static let script = #"!f() { test "$1" = get || exit 0; h=; while read -r l; do case "$l" in host=*) h="${l#host=}";; esac; done; i=0; while :; do eval "c=\${WARREN_CREDENTIAL_HOST_$i-}"; test -n "$c" || break; if test "$c" = "$h" || test "$c" = "${h%:*}"; then eval "printf 'username=%s\npassword=%s\n' \"\$WARREN_CREDENTIAL_USERNAME_$i\" \"\$WARREN_CREDENTIAL_PASSWORD_$i\""; break; fi; i=$((i+1)); done; }; f"#

    /// `base` plus the variables that make git use `credentials`.
    static func environment(_ credentials: [HostCredential], base: [String: String]) -> [String: String] {
        var env = base
        for key in env.keys where key.hasPrefix("WARREN_CREDENTIAL_") { env[key] = nil }
        guard !credentials.isEmpty else { return env }
        for (i, c) in credentials.enumerated() {
            env["WARREN_CREDENTIAL_HOST_\(i)"] = c.host
            env["WARREN_CREDENTIAL_USERNAME_\(i)"] = c.username
            env["WARREN_CREDENTIAL_PASSWORD_\(i)"] = c.password
        }
        // Added after any GIT_CONFIG_* entries the operator set.
        let count = Int(env["GIT_CONFIG_COUNT"] ?? "") ?? 0
        env["GIT_CONFIG_KEY_\(count)"] = "credential.helper"
        env["GIT_CONFIG_VALUE_\(count)"] = script
        env["GIT_CONFIG_COUNT"] = String(count + 1)
        return env
    }
}
