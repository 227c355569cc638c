/// Storage that can send a client to the object itself: for object storage, a presigned
/// URL, so large zips go out from the bucket (its bandwidth, its CDN) rather than through
/// Warren. Only artifacts that are stored (hence verified) are ever redirected.
public protocol RedirectingStorage: ArtifactStorage {
    /// Where a client may GET `key` directly, and how long that answer may be cached, or
    /// nil to serve it here (not stored, too small, or redirects off).
    func redirect(for key: StorageKey) async -> (url: String, maxAge: Int)?
}
