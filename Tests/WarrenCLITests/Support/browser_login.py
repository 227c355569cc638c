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
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import Browser  # noqa: E402

chromium, start_url, user, password, screenshot, spki = sys.argv[1:7]
browser = Browser(chromium, ["--ignore-certificate-errors-spki-list=" + spki])
try:
    browser.call("Page.enable")
    browser.call("Page.navigate", url=start_url)
    browser.wait_for("!!document.getElementById('username')", "the provider's sign-in form")
    browser.evaluate("document.getElementById('username').value = %s" % json.dumps(user))
    browser.evaluate("document.getElementById('password').value = %s" % json.dumps(password))
    browser.evaluate("document.getElementById('login').click()")
    browser.wait_for("!!document.getElementById('token')", "Warren's token page")
    browser.screenshot(screenshot)
    print(browser.evaluate("location.href"), file=sys.stderr)
    print(browser.evaluate("document.getElementById('token').textContent"))
finally:
    browser.close()
