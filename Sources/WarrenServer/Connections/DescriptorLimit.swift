#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit, which bounds how many clients Warren can hold.
///
/// Every client costs a socket, and while it downloads a zip usually a file too (the
/// stored zip, or the staging file of a download in progress); upstream connections, git
/// processes and the event loops need descriptors of their own. Running out makes every
/// accept fail — `/healthz` included — so the connection cap is kept well below it.
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit, as the go command and nginx's
    /// `worker_rlimit_nofile` do: the soft default (often 1024) is a relic, the hard limit
    /// is what the operator allowed. Returns the soft limit now in force.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return clamp(limit.rlim_cur)
    }

    /// The soft limit in force.
    public static func current() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return clamp(limit.rlim_cur)
    }

    /// Half of what is left after a reserve of 64 descriptors for the engine (a client
    /// downloading a zip holds two), at least 16 and at most 20,000.
    public static func defaultMaxConnections(limit: Int = current()) -> Int {
        min(20_000, max(16, (limit - 64) / 2))
    }

    private static func clamp(_ value: rlim_t) -> Int {
        value > rlim_t(Int32.max) ? Int(Int32.max) : Int(value)
    }
}
