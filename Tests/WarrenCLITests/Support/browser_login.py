"""Signs in to Warren in a real browser: headless Chromium (Debian's
chromium-headless-shell), driven over the DevTools protocol (websocket-client from PyPI).

    python3 browser_login.py CHROMIUM START_URL USER PASSWORD SCREENSHOT SPKI

Opens START_URL (Warren's /login), which redirects to the provider's form; types the
user name and password and submits, as a person would; waits for Warren's token page;
saves a screenshot of it; prints the page's token on stdout. SPKI is the base64 SHA-256 of
Warren's public key: the browser trusts that one key (as a company CA would be trusted),
not every certificate. Exits non-zero with the
page's text when any step does not happen within its time.
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

chromium, start_url, user, password, screenshot, spki = sys.argv[1:7]
profile = tempfile.mkdtemp(prefix="warren-browser-")
browser = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                            "--remote-debugging-port=0", "--user-data-dir=" + profile,
                            "--ignore-certificate-errors-spki-list=" + spki, "about:blank"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fail(message):
    print(message, file=sys.stderr)
    sys.exit(1)


try:
    # Chromium writes the port it chose, and the browser's socket path, to this file.
    port_file = os.path.join(profile, "DevToolsActivePort")
    deadline = time.time() + 30
    while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
        if time.time() > deadline or browser.poll() is not None:
            fail("chromium did not start its DevTools endpoint")
        time.sleep(0.05)
    port = open(port_file).read().split("\n")[0].strip()
    # The first page target.
    deadline = time.time() + 10
    target = None
    while target is None:
        try:
            targets = json.loads(subprocess.run(["curl", "-s", "http://127.0.0.1:%s/json/list" % port], capture_output=True, text=True).stdout)
            target = next((t for t in targets if t.get("type") == "page"), None)
        except ValueError:
            pass
        if target is None:
            if time.time() > deadline:
                fail("no page target")
            time.sleep(0.05)
    ws = websocket.create_connection(target["webSocketDebuggerUrl"], timeout=30)
    ids = iter(range(1, 1 << 30))

    def call(method, **params):
        i = next(ids)
        ws.send(json.dumps({"id": i, "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == i:
                if "error" in message:
                    fail("%s: %s" % (method, message["error"]))
                return message.get("result", {})

    def evaluate(expression):
        return call("Runtime.evaluate", expression=expression, returnByValue=True).get("result", {}).get("value")

    def wait_for(expression, what, seconds=30):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if evaluate(expression):
                return
            time.sleep(0.05)
        fail("%s did not happen; the page says: %s" % (what, evaluate("document.body ? document.body.innerText : ''")))

    call("Page.enable")
    call("Page.navigate", url=start_url)
    wait_for("!!document.getElementById('username')", "the provider's sign-in form")
    evaluate("document.getElementById('username').value = %s" % json.dumps(user))
    evaluate("document.getElementById('password').value = %s" % json.dumps(password))
    evaluate("document.getElementById('login').click()")
    wait_for("!!document.getElementById('token')", "Warren's token page")
    shot = call("Page.captureScreenshot", format="png")
    with open(screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(evaluate("location.href"), file=sys.stderr)
    print(evaluate("document.getElementById('token').textContent"))
finally:
    browser.kill()
    browser.wait()
    shutil.rmtree(profile, ignore_errors=True)
