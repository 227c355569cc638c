"""Walks Warren's web console in a real browser (headless Chromium over the DevTools
protocol) as an admin would, and checks what a person cannot see at a glance.

    python3 console_browser.py CHROMIUM BASE_URL TOKEN ARTIFACTS SEARCH FOUND HIDDEN PIN EVICT_MODULE EVICT_VERSION [START_PATH…]

- Signs in with TOKEN as the session cookie, starts at BASE_URL/-/ (and each START_PATH,
  such as a short page size that makes paging links) and follows every link
  into the console (paging and module pages included), taking a screenshot of each page
  into ARTIFACTS.
- Every link on every page must answer below 400 (checked with the same cookie), and
  must stay on Warren's origin; every request the browser makes (stylesheet included)
  must go to Warren's origin.
- Every page must be valid HTML: html5lib's strict parser reports every parse error, and
  element ids must be unique.
- Searches for SEARCH by typing it into the search box: FOUND must be listed, HIDDEN not.
- Pins PIN with the admin page's form, and evicts EVICT_MODULE@EVICT_VERSION with the
  button on its module page; each must report success and show its effect.

Prints a JSON summary on stdout; exits non-zero naming the first problem.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import html5lib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import Browser, fail  # noqa: E402

(chromium, base, token, artifacts, search, found, hidden, pin, evict_module, evict_version) = sys.argv[1:11]
starts = sys.argv[11:]
origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(base))
cookie = "warren_session=" + token
os.makedirs(artifacts, exist_ok=True)


def fetch(url):
    request = urllib.request.Request(url, headers={"Cookie": cookie, "Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


class Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.seen, self.duplicates = set(), []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id":
                if value in self.seen:
                    self.duplicates.append(value)
                self.seen.add(value)


def check_html(url):
    status, text = fetch(url)
    if status >= 400:
        fail("%s answered %d" % (url, status))
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        parser.parse(text)
    except html5lib.html5parser.ParseError as e:
        fail("%s is not valid HTML: %s" % (url, e))
    ids = Ids()
    ids.feed(text)
    if ids.duplicates:
        fail("%s repeats element ids: %s" % (url, ids.duplicates))


def slug(url):
    path = urllib.parse.urlsplit(url)
    name = (path.path.strip("/").replace("/", "_") or "root") + ("_" + path.query if path.query else "")
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:90]


browser = Browser(chromium)
summary = {"pages": [], "links": 0, "screenshots": [], "requests": 0}
try:
    browser.call("Page.enable")
    browser.call("Network.enable")
    browser.call("Network.setCookie", name="warren_session", value=token, url=origin + "/", httpOnly=True, sameSite="Strict")

    def visit(url, wait="document.readyState === 'complete'"):
        browser.call("Page.navigate", url=url)
        browser.wait_for("location.href === %s && %s" % (json.dumps(url), wait), "loading " + url)
        browser.wait_for("document.readyState === 'complete'", "loading " + url)

    queue, seen, checked = [base + "/-/"] + [base + p for p in starts], set(), set()
    while queue and len(summary["pages"]) < 40:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        visit(url)
        check_html(url)
        shot = os.path.join(artifacts, "console-%s.png" % slug(url))
        browser.screenshot(shot)
        summary["pages"].append(urllib.parse.urlsplit(url).path + ("?" + urllib.parse.urlsplit(url).query if urllib.parse.urlsplit(url).query else ""))
        summary["screenshots"].append(shot)
        links = browser.evaluate("Array.from(document.querySelectorAll('a[href]')).map(a => a.href)") or []
        for link in links:
            link = link.split("#")[0]
            if not link.startswith(origin + "/"):
                fail("%s links to another origin: %s" % (url, link))
            path = urllib.parse.urlsplit(link).path
            if path in ("/logout", "/login"):
                continue  # signing out would end the walk; sign-in has its own test
            if link not in checked:
                checked.add(link)
                status, _ = fetch(link)
                if status >= 400:
                    fail("%s links to %s, which answers %d" % (url, link, status))
            if path.startswith("/-/") and link not in seen:
                queue.append(link)
    summary["links"] = len(checked)

    # Search as a person would: type, press the button.
    visit(base + "/-/modules")
    browser.evaluate("document.getElementById('q').value = %s" % json.dumps(search))
    browser.evaluate("document.getElementById('search').click()")
    browser.wait_for("location.search.indexOf('q=') >= 0 && document.readyState === 'complete'", "the search results")
    listed = browser.evaluate("Array.from(document.querySelectorAll('#modules td:first-child a')).map(a => a.textContent)") or []
    if found not in listed or hidden in listed:
        fail("searching %r listed %s" % (search, listed))
    summary["search"] = listed
    browser.screenshot(os.path.join(artifacts, "console-search.png"))

    # Pin with the admin form.
    visit(base + "/-/admin")
    browser.evaluate("document.getElementById('pin-pattern').value = %s" % json.dumps(pin))
    browser.evaluate("document.getElementById('pin-form').submit()")
    browser.wait_for("!!document.getElementById('notice') && document.readyState === 'complete'", "the pin's notice")
    notice = browser.evaluate("document.getElementById('notice').textContent")
    pins = browser.evaluate("document.getElementById('pins') ? document.getElementById('pins').textContent : ''") or ""
    if notice != "pinned " + pin or pin not in pins:
        fail("pinning %s said %r; pins: %r" % (pin, notice, pins))
    summary["pinned"] = notice
    browser.screenshot(os.path.join(artifacts, "console-admin-pinned.png"))

    # Evict one version with its button on the module page.
    module_url = base + "/-/modules/" + evict_module
    visit(module_url)
    row = "document.getElementById(%s)" % json.dumps("v-" + evict_version)
    browser.evaluate("%s.querySelector('form').submit()" % row)
    browser.wait_for("!!document.getElementById('notice') && document.readyState === 'complete'", "the eviction's notice")
    notice = browser.evaluate("document.getElementById('notice').textContent")
    cell = browser.evaluate("%s.textContent" % row) or ""
    if not notice.startswith("evicted 1 zip of %s (%s;" % (evict_module, evict_version)) or "zip not cached" not in cell:
        fail("evicting said %r; the row says %r" % (notice, cell))
    summary["evicted"] = notice
    browser.screenshot(os.path.join(artifacts, "console-module-evicted.png"))

    # Every request the browser made went to Warren.
    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    others = [u for u in requests if not u.startswith(origin + "/")]
    if others:
        fail("the browser loaded from other origins: %s" % others[:5])
    summary["requests"] = len(requests)
    summary["stylesheets"] = len([u for u in requests if u.endswith("/-/console.css")])
finally:
    browser.close()
print(json.dumps(summary))
