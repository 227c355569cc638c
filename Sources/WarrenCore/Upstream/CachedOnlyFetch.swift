/// A fetch made for a request with `Disable-Module-Fetch: true` under
/// `--disable-fetch upstream`: upstreams may answer only from what they already hold. The
/// mark travels with the task (and its child tasks) from the engine to the upstreams:
/// HTTP proxies are sent the header, `direct` is not asked at all (cloning is fetching),
/// file trees answer (they are a store).
public enum CachedOnlyFetch {
    @TaskLocal public static var isActive = false
}
