#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum FileHandleWriter {
    static func writeToStandardError(_ s: String) {
        var bytes = Array(s.utf8)
        bytes.withUnsafeMutableBytes { buf in
            var p = buf.baseAddress
            var left = buf.count
            while left > 0, let ptr = p {
                let n = write(2, ptr, left)
                if n <= 0 { return }
                p = ptr + n
                left -= n
            }
        }
    }
}
