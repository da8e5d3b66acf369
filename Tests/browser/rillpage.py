"""Drives the box's page in Debian's headless chromium through Debian's chromedriver (Selenium).

Each scenario script imports this module, runs its steps against one box (``--base
http://127.0.0.1:PORT``), and prints ONE JSON object of what it observed as its last stdout
line; a failed step exits non-zero with a message naming the step (``fail``). The Swift test
that started the box asserts on the JSON and does the independent-peer checks itself.

Selenium Manager never runs: the driver's path is given, so nothing is fetched from the net.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Selenium Manager looks for drivers on the net when no path is given; it must stay offline.
os.environ["SE_OFFLINE"] = "true"


class StepFailed(Exception):
    """A scenario step that did not observe what it waited for."""


def fail(step, detail=""):
    """Ends the scenario: the failing step on stderr, exit status 1."""
    raise StepFailed(f"{step}: {detail}" if detail else step)


def arguments(extra=None):
    """The scenario's command line: --base URL, --password, --screenshots DIR (+ `extra(parser)`)."""
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True, help="the box, e.g. http://127.0.0.1:18471")
    p.add_argument("--password", default="", help="the admin password")
    p.add_argument("--screenshots", default="", help="directory for screenshots (none if empty)")
    p.add_argument("--sync", default="", help="directory for checkpoints with the test (none if empty)")
    if extra:
        extra(p)
    return p.parse_args()


def browser(width=1600, height=1000):
    """A headless chromium with its console log kept (level ALL) for `console_errors`."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for a in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--window-size={width},{height}",
    ):
        options.add_argument(a)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=CHROMEDRIVER, log_output=os.devnull)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_script_timeout(30)
    driver.set_page_load_timeout(30)
    return driver


# Chromium logs every 4xx answer as a console error; the page's start-up probe of its session is
# answered 401 before the login (that is how the page learns it must show the login form).
LOGIN_PROBE = "/api/v1/session - Failed to load resource: the server responded with a status of 401"


def viewport(driver, width, height, mobile=False):
    """Sets the page's viewport to exactly width×height CSS pixels (scale 1), as a phone's when `mobile`.

    A headless window's size includes the browser's frame; the DevTools device metrics do not.
    """
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def console_errors(driver, allowed=(LOGIN_PROBE,)):
    """The console's SEVERE entries since the last call, less those containing a string of `allowed`."""
    entries = driver.get_log("browser")
    return [
        e["message"]
        for e in entries
        if e.get("level") == "SEVERE" and not any(a in e.get("message", "") for a in allowed)
    ]


def wait(driver, what, condition, timeout=15.0):
    """Waits until `condition(driver)` is truthy and returns it; fails the step `what` otherwise."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(lambda d: condition(d))
    except TimeoutException:
        fail(what, f"not seen within {timeout} s")


def visible(driver, css):
    """The element matching `css` when it is displayed, else None."""
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0] if found and found[0].is_displayed() else None


def text(driver, css):
    """The text of the first element matching `css` ("" when there is none)."""
    found = driver.find_elements(By.CSS_SELECTOR, css)
    return found[0].text.strip() if found else ""


def login(driver, base, password, timeout=15.0):
    """Opens the page, logs in through its form, waits for the main view (the login form gone)."""
    driver.get(base + "/")
    field = wait(driver, "login form shown", lambda d: visible(d, "#login-password"), timeout)
    field.clear()
    field.send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "#login-submit").click()
    wait(driver, "logged in (login form hidden, #logout shown)",
         lambda d: visible(d, "#logout") and not visible(d, "#login-form"), timeout)


def fetch(driver, method, path, body=None, csrf=None, headers=None):
    """A fetch() from the page's own origin with its cookie: {"status", "body", "headers"}."""
    script = """
        const [method, path, body, csrf, extra, done] = arguments;
        const headers = Object.assign({}, extra || {});
        if (csrf) headers['X-CSRF-Token'] = csrf;
        if (body !== null) headers['Content-Type'] = 'application/json';
        fetch(path, {method, credentials: 'same-origin', headers,
                     body: body === null ? undefined : body})
          .then(async r => done({status: r.status, body: await r.text(),
                                 headers: Object.fromEntries(r.headers.entries())}))
          .catch(e => done({status: 0, body: String(e), headers: {}}));
    """
    return driver.execute_async_script(script, method, path, body, csrf, headers or {})


def session(driver):
    """GET /api/v1/session from the page: its JSON body (with "csrf") or fails."""
    r = fetch(driver, "GET", "/api/v1/session")
    if r["status"] != 200:
        fail("GET /api/v1/session", f"status {r['status']}: {r['body'][:200]}")
    return json.loads(r["body"])


def session_cookie_name(base):
    """The session cookie's name: rill_session_<API port> (one per port: browsers share cookies across ports)."""
    return f"rill_session_{urllib.parse.urlparse(base).port or 80}"


def cookie(driver, name=None):
    """The value of the page's cookie `name` (default: the session's; Selenium sees HttpOnly cookies), or None."""
    c = driver.get_cookie(name or session_cookie_name(driver.current_url))
    return c["value"] if c else None


def http(method, url, body=None, headers=None, timeout=10):
    """A plain request outside the browser: (status, headers dict, body text). A header sent more
    than once (Set-Cookie: the session and the device cookie) is joined with "\n"."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})

    def joined(h):
        out = {}
        for k, v in h.items():
            out[k] = out[k] + "\n" + v if k in out else v
        return out
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, joined(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, joined(e.headers), e.read().decode("utf-8", "replace")


def session_cookie(headers, base):
    """The `name=value` of the session cookie among a response's Set-Cookie headers, or ""."""
    name = session_cookie_name(base) + "="
    cookies = {k.lower(): v for k, v in headers.items()}.get("set-cookie", "").split("\n")
    return next((c.split(";")[0] for c in cookies if c.startswith(name)), "")


def screenshot(driver, path):
    """Writes a PNG of the window to `path` (its directory made if needed); returns the path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if not driver.save_screenshot(path):
        fail("screenshot", path)
    return path


def run(scenario):
    """Runs `scenario()` (which returns the observations dict): prints the JSON as the last line.

    A failed step (or a browser error) prints the step to stderr and exits 1.
    """
    try:
        observed = scenario()
    except StepFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
    except WebDriverException as e:
        print(f"FAILED (browser): {e.msg or e}", file=sys.stderr)
        sys.exit(1)
    sys.stdout.flush()
    print(json.dumps(observed, sort_keys=True))


def elapsed(start):
    """Seconds since `start` (time.monotonic()), rounded to 0.01."""
    return round(time.monotonic() - start, 2)


def checkpoint(args, name, timeout=120.0):
    """Lets the test check the wire at this step: writes SYNC/name.ready, waits for SYNC/name.go.

    Without --sync it returns at once. The test's checks take seconds (captures of a few seconds).
    """
    if not args.sync:
        return
    open(os.path.join(args.sync, name + ".ready"), "w").close()
    go, deadline = os.path.join(args.sync, name + ".go"), time.monotonic() + timeout
    while not os.path.exists(go):
        if time.monotonic() > deadline:
            fail(f"checkpoint {name}", f"the test did not answer within {timeout} s")
        time.sleep(0.05)
