"""A GOPROXY file-tree server for benchmarks whose small answers are sometimes late:
every EVERY-th request for a list, @latest, .info or .mod waits DELAY seconds first (a
p99 far above its p50, as a congested mirror behaves). Zips are never delayed.

    python3 slow_goproxy.py ROOT PORT EVERY DELAY

Prints "listening PORT" once it accepts connections.
"""
import http.server
import os
import sys
import threading
import time

root, port, every, delay = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
count = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        global count
        path = self.path.split("?")[0]
        small = not path.endswith(".zip")
        if small and every > 0:
            with lock:
                count += 1
                late = count % every == 0
            if late:
                time.sleep(delay)
        file = os.path.normpath(os.path.join(root, path.lstrip("/")))
        if not file.startswith(os.path.normpath(root)) or not os.path.isfile(file):
            body = b"not found\n"
            self.send_response(404)
        else:
            with open(file, "rb") as f:
                body = f.read()
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print("listening %d" % server.server_address[1], flush=True)
server.serve_forever()
