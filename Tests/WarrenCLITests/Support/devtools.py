"""A headless Chromium driven over the DevTools protocol (websocket-client from PyPI),
shared by the browser tests: start it, call protocol methods, evaluate expressions, wait
for a condition, take screenshots, and see every event it reports.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import websocket


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


class Browser:
    def __init__(self, chromium, extra_args=(), width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="warren-browser-")
        self.process = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                         "--remote-debugging-port=0", "--user-data-dir=" + self.profile,
                                         "--window-size=%d,%d" % (width, height)] + list(extra_args) + ["about:blank"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.events = []
        self.ids = iter(range(1, 1 << 30))
        # Chromium writes the port it chose, and the browser's socket path, to this file.
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        # Generous: on a two-core machine running the whole suite, a start can take long.
        deadline = time.time() + 90
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or self.process.poll() is not None:
                self.close()
                fail("chromium did not start its DevTools endpoint")
            time.sleep(0.05)
        port = open(port_file).read().split("\n")[0].strip()
        deadline = time.time() + 10
        target = None
        while target is None:
            try:
                listing = subprocess.run(["curl", "-s", "http://127.0.0.1:%s/json/list" % port], capture_output=True, text=True).stdout
                target = next((t for t in json.loads(listing) if t.get("type") == "page"), None)
            except ValueError:
                pass
            if target is None:
                if time.time() > deadline:
                    self.close()
                    fail("no page target")
                time.sleep(0.05)
        self.ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)

    def call(self, method, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == i:
                if "error" in message:
                    fail("%s: %s" % (method, message["error"]))
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def evaluate(self, expression):
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def wait_for(self, expression, what, seconds=90):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.evaluate(expression):
                return
            time.sleep(0.05)
        fail("%s did not happen; the page says: %s" % (what, self.evaluate("document.body ? document.body.innerText : ''")))

    def screenshot(self, path):
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))

    def close(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
