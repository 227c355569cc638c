import Foundation
import TestServers

/// An HTTP forward proxy on loopback, standing in for a company's egress proxy: it
/// tunnels `CONNECT host:port` and forwards `GET http://host:port/…`, sending every host
/// to 127.0.0.1 (so made-up names such as `upstream.test` reach loopback servers, and
/// only through the proxy), and prints each target it was asked for.
final class ForwardProxy: @unchecked Sendable {
    let process: TestProcess
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    /// Targets asked for, in order: `CONNECT host:port` or `GET http://…`.
    var requests: [String] {
        process.stdout.text.split(separator: "\n").filter { $0.hasPrefix("CONNECT ") || $0.hasPrefix("GET ") }.map(String.init)
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// - Parameter connectPort: where every `CONNECT` goes, whatever port it names (nil:
    ///   the named port), so `https://any.name/` reaches one loopback server.
    init(connectPort: Int? = nil) throws {
        let script = #"""
        import socket, sys, threading
        out = threading.Lock()
        def say(line):
            with out:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
        def pipe(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d: break
                    b.sendall(d)
            except OSError: pass
            finally:
                for s in (a, b):
                    try: s.shutdown(socket.SHUT_RDWR)
                    except OSError: pass
        def serve(c):
            head = b""
            while b"\r\n\r\n" not in head:
                d = c.recv(4096)
                if not d: c.close(); return
                head += d
            line, rest = head.split(b"\r\n", 1)
            method, target, version = line.decode().split(" ")
            if method == "CONNECT":
                host, port = target.rsplit(":", 1)
                say("CONNECT " + target)
                up = socket.create_connection(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else int(port)))
                c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                say(method + " " + target)
                hostport = target.split("/")[2]
                port = int(hostport.rsplit(":", 1)[1]) if ":" in hostport else 80
                path = "/" + target.split("/", 3)[3] if target.count("/") >= 3 else "/"
                up = socket.create_connection(("127.0.0.1", port))
                up.sendall((method + " " + path + " " + version + "\r\n").encode() + rest)
            threading.Thread(target=pipe, args=(c, up), daemon=True).start()
            pipe(up, c)
        srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", 0)); srv.listen(64)
        print("port", srv.getsockname()[1], flush=True)
        while True:
            c, _ = srv.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
        """#
        process = try TestProcess("/usr/bin/python3", ["-u", "-c", script] + (connectPort.map { [String($0)] } ?? []))
        let text = process.stdout.waitFor(timeout: 20) { $0.contains("port ") && $0.contains("\n") }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port ") }), let p = Int(line.dropFirst(5)) else {
            _ = process.kill9()
            throw Failure(description: "the forward proxy did not start: \(text) \(process.stderr.text)")
        }
        port = p
    }

    deinit { _ = process.kill9() }
}
