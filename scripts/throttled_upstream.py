#!/usr/bin/env python3
"""A GOPROXY file tree served on loopback at a throttled rate, for the cold-path
benchmarks (scripts/bench-coldzip.sh, scripts/bench-singleflight.sh): the slow upstream
a proxy sits in front of. Files up to 64 KiB go out at once; larger ones at --rate bytes
per second, in 64 KiB chunks. With --hold FILE, zips are answered only once FILE
exists. GET /_stats gives the number of requests per path, as JSON.

    throttled_upstream.py --dir TREE --rate 20000000 [--hold FILE]   → prints "listening PORT"
"""
import argparse, collections, http.server, json, os, sys, threading, time

p = argparse.ArgumentParser()
p.add_argument("--dir", required=True)
p.add_argument("--rate", type=float, default=20e6)
p.add_argument("--hold", default=None)
a = p.parse_args()
counts = collections.Counter()
lock = threading.Lock()
root = os.path.realpath(a.dir)
CHUNK = 64 * 1024


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/_stats":
            with lock:
                body = json.dumps(counts).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        with lock:
            counts[self.path] += 1
        if a.hold and self.path.endswith(".zip"):
            while not os.path.exists(a.hold):
                time.sleep(0.01)
        path = os.path.realpath(os.path.join(root, self.path.split("?")[0].lstrip("/")))
        if not path.startswith(root + os.sep) or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        start = time.monotonic()
        sent = 0
        with open(path, "rb") as f:
            while True:
                chunk = f.read(CHUNK)
                if not chunk:
                    break
                if size > CHUNK:
                    # Hold to the rate: chunk n leaves no earlier than n * CHUNK / rate.
                    due = start + sent / a.rate
                    delay = due - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self.wfile.write(chunk)
                sent += len(chunk)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print("listening", server.server_address[1], flush=True)
server.serve_forever()
