"""Security of the page in a real browser (issue 11, acceptance "Security").

Observes, in order: the security headers and the page's lack of inline script; every page API call
without a session (401); a forged page served from another port (same site, other origin: the
SameSite cookie rides along) that auto-submits a form and fetch()es state changes at the box with
the session's cookie (refused, nothing changed); the same stop from the page's own origin without and
with the CSRF token (403, then 202: the forged request aimed at a working endpoint); logout (the old
cookie is refused); 20 wrong passwords (429 + Retry-After, shown by the login form); a password
change through the page (422 and 403 next to their fields, then every session ended); console errors.
"""

import html.parser
import http.server
import json
import threading
import time

import rillpage as rp


class InlineFinder(html.parser.HTMLParser):
    """Counts inline script, on* handler attributes and style attributes in served HTML."""

    def __init__(self):
        super().__init__()
        self.inline_scripts = 0
        self.handlers = []
        self.styles = 0
        self.scripts = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "script":
            self.scripts.append(names.get("src"))
            if not names.get("src"):
                self.inline_scripts += 1
        self.handlers += [f"{tag}[{k}]" for k, _ in attrs if k.lower().startswith("on")]
        self.styles += 1 if "style" in names else 0


FORGED = """<!doctype html><html><body>
<form id="f" method="POST" action="{box}/api/v1/outputs/{output}/stop">
<input name="password" value="x"></form>
<script>
const box = '{box}';
const results = {{}};
async function attempt(name, method, path, body, mode) {{
  try {{
    const r = await fetch(box + path, {{method, body, mode, credentials: 'include',
                                       headers: mode === 'cors' ? {{'Content-Type': 'application/json'}} : {{}}}});
    results[name] = {{sent: true, status: r.status, type: r.type}};
  }} catch (e) {{ results[name] = {{sent: true, error: String(e)}}; }}
}}
(async () => {{
  await attempt('stopNoCors', 'POST', '/api/v1/outputs/{output}/stop', 'x', 'no-cors');
  await attempt('patchCors', 'PATCH', '/api/v1/config', '{{"program": {{"serviceName": "forged"}}}}', 'cors');
  await attempt('putCors', 'PUT', '/api/v1/config/outputs', '[]', 'cors');
  await attempt('patchNoCors', 'POST', '/api/v1/config', '{{"program": {{"serviceName": "forged"}}}}', 'no-cors');
  document.title = 'done ' + JSON.stringify(results);
  if (location.pathname === '/submit') document.getElementById('f').submit();
}})();
</script></body></html>"""


def serve_forged(box, output):
    """An http.server on 127.0.0.1 (another port than the box's): GET / answers the forged page."""
    page = FORGED.format(box=box, output=output).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def output_state(driver, output):
    """(state, packets) of `output` from GET /api/v1/status through the page's session."""
    r = rp.fetch(driver, "GET", "/api/v1/status")
    status = json.loads(r["body"]) if r["status"] == 200 else {}
    o = next((o for o in status.get("outputs", []) if o.get("id") == output), {})
    return o.get("state"), o.get("packets", 0)


def main():
    def extra(p):
        p.add_argument("--output", default="a", help="a running output's id")
        p.add_argument("--new-password", required=True, help="the admin password the page changes to")

    args = rp.arguments(extra)
    base, out = args.base, {}
    noisy = ("status of 401", "status of 403", "status of 429")  # the refusals this test provokes
    d = rp.browser()
    try:
        # Headers of the page and of an API answer; the served HTML and the live DOM.
        status, headers, body = rp.http("GET", base + "/")
        h = {k.lower(): v for k, v in headers.items()}
        out["pageStatus"] = status
        out["csp"] = h.get("content-security-policy", "")
        out["xFrameOptions"] = h.get("x-frame-options", "")
        out["nosniff"] = h.get("x-content-type-options", "")
        api_h = {k.lower(): v for k, v in rp.http("GET", base + "/api/v1/status")[1].items()}
        out["apiCSP"] = api_h.get("content-security-policy", "")
        found = InlineFinder()
        found.feed(body)
        out["servedInlineScripts"], out["servedHandlers"] = found.inline_scripts, found.handlers
        out["servedStyleAttributes"], out["servedScripts"] = found.styles, found.scripts
        d.get(base + "/")
        rp.wait(d, "login form shown without a session", lambda x: rp.visible(x, "#login-form"))
        out["domInlineScripts"] = d.execute_script(
            "return [...document.querySelectorAll('script')].filter(s => !s.src).length")
        out["domScripts"] = d.execute_script("return document.querySelectorAll('script[src]').length")
        out["domHandlers"] = d.execute_script(
            "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]"
            ".filter(a => a.name.startsWith('on')).map(a => e.tagName + '[' + a.name + ']'))")

        # Without a session: every call the page makes is 401.
        calls = [("GET", "/api/v1/session"), ("GET", "/api/v1/status"), ("GET", "/api/v1/config"),
                 ("GET", "/api/v1/config/files"), ("GET", "/api/v1/config/outputs"), ("GET", "/api/v1/levels"),
                 ("GET", "/api/v1/thumbnails/source.jpg?width=320"),
                 ("GET", "/api/v1/thumbnails/program.jpg?width=320"), ("GET", "/api/v1/events"),
                 ("GET", "/api/v1/levels?stream=1"), ("GET", f"/api/v1/outputs/{args.output}/sdp"),
                 ("PUT", "/api/v1/config/outputs"), ("PATCH", "/api/v1/config"),
                 ("POST", f"/api/v1/outputs/{args.output}/stop"), ("POST", f"/api/v1/outputs/{args.output}/start"),
                 ("POST", "/api/v1/password"), ("DELETE", "/api/v1/session")]
        out["noSession"] = {f"{m} {p}": rp.fetch(d, m, p, None if m in ("GET", "DELETE") else "{}")["status"]
                            for m, p in calls}

        rp.login(d, base, args.password)
        errors = rp.console_errors(d, noisy)
        csrf = rp.session(d)["csrf"]
        out["loggedIn"] = bool(csrf)
        out["cookieFlags"] = {k: v for k, v in (d.get_cookie(rp.session_cookie_name(base)) or {}).items()
                              if k in ("httpOnly", "sameSite")}
        config_before = rp.fetch(d, "GET", "/api/v1/config")["body"]
        state, packets = output_state(d, args.output)
        out["outputBefore"] = {"state": state, "packets": packets}

        # The forged page, same site (127.0.0.1) but another origin (its own port): the cookie is sent.
        forged = serve_forged(base, args.output)
        forged_url = f"http://127.0.0.1:{forged.server_address[1]}/"
        out["forgedOrigin"] = forged_url.rstrip("/")
        d.get(forged_url)
        title = rp.wait(d, "the forged page ran its fetches",
                        lambda x: x.title if x.title.startswith("done ") else None)
        out["forgedFetches"] = json.loads(title[5:])
        d.get(forged_url + "submit")
        rp.wait(d, "the forged form's POST answered by the box",
                lambda x: x.current_url.startswith(base + "/api/v1/outputs/"))
        out["forgedFormBody"] = d.find_element("tag name", "body").text[:400]
        forged.shutdown()
        time.sleep(0.5)
        # The forged page's own console (CORS refusals, the 403 view's favicon) is not the page's.
        out["forgedConsole"] = len(rp.console_errors(d, ()))
        d.get(base + "/")
        rp.wait(d, "back on the page, still logged in", lambda x: rp.visible(x, "#logout"))
        time.sleep(2)  # anything the forged requests had started would show now
        out["configUnchanged"] = rp.fetch(d, "GET", "/api/v1/config")["body"] == config_before
        state, packets2 = output_state(d, args.output)
        out["outputAfterForgery"] = {"state": state, "packets": packets2}

        # The same stop from the page's own origin: without the CSRF token refused, with it accepted.
        out["ownOriginNoCSRF"] = rp.fetch(d, "POST", f"/api/v1/outputs/{args.output}/stop", "{}")["status"]
        out["ownOriginCSRF"] = rp.fetch(d, "POST", f"/api/v1/outputs/{args.output}/stop", "{}", csrf)["status"]
        out["stoppedByOwnOrigin"] = rp.wait(
            d, "the output stopped by the page's own request",
            lambda x: output_state(x, args.output)[0] in ("stopped", "off"), 10) is not None
        out["restarted"] = rp.fetch(d, "POST", f"/api/v1/outputs/{args.output}/start", "{}", csrf)["status"]

        # Logout: the old cookie stops working.
        old = rp.cookie(d)
        out["oldCookieBeforeLogout"] = rp.http("GET", base + "/api/v1/session",
                                               headers={"Cookie": f"{rp.session_cookie_name(base)}={old}"})[0]
        errors += rp.console_errors(d, noisy)
        d.find_element("css selector", "#logout").click()
        rp.wait(d, "login form after logout", lambda x: rp.visible(x, "#login-form"))
        out["oldCookieAfterLogout"] = rp.http("GET", base + "/api/v1/session",
                                              headers={"Cookie": f"{rp.session_cookie_name(base)}={old}"})[0]
        out["oldCookieStopAfterLogout"] = rp.http(
            "POST", base + f"/api/v1/outputs/{args.output}/stop", body="{}",
            headers={"Cookie": f"{rp.session_cookie_name(base)}={old}", "X-CSRF-Token": csrf})[0]

        # 20 wrong passwords in a row, as fast as the box answers, then one through the form.
        attempts, start = [], time.monotonic()
        for _ in range(20):
            r = rp.fetch(d, "POST", "/api/v1/session", json.dumps({"password": "wrong password!"}))
            attempts.append({"status": r["status"], "retryAfter": r["headers"].get("retry-after")})
        out["wrongAttempts"], out["wrongAttemptsSeconds"] = attempts, rp.elapsed(start)
        pw = d.find_element("css selector", "#login-password")
        pw.clear()
        pw.send_keys("wrong password!")
        d.find_element("css selector", "#login-submit").click()
        out["formThrottleMessage"] = rp.wait(
            d, "the login form shows the wait", lambda x: rp.text(x, "#login-error") or None, 5)
        out["submitDisabledWhileThrottled"] = not d.find_element("css selector", "#login-submit").is_enabled()
        # The right password is refused while throttled, accepted once the wait is over.
        r = rp.fetch(d, "POST", "/api/v1/session", json.dumps({"password": args.password}))
        out["rightPasswordWhileThrottled"] = r["status"]
        wait = int(r["headers"].get("retry-after") or 0)
        time.sleep(wait + 0.5)
        out["rightPasswordAfterWait"] = rp.fetch(
            d, "POST", "/api/v1/session", json.dumps({"password": args.password}))["status"]
        errors += rp.console_errors(d, noisy)

        # A password change through the page ends every session (this browser's and another client's).
        status, headers, _ = rp.http("POST", base + "/api/v1/session", json.dumps({"password": args.password}),
                                     {"Content-Type": "application/json"})
        other = rp.session_cookie(headers, base)
        out["otherSessionBefore"] = rp.http("GET", base + "/api/v1/session", headers={"Cookie": other})[0]
        d.get(base + "/")
        rp.wait(d, "logged in again (page reloaded)", lambda x: rp.visible(x, "#logout"))
        mine = rp.cookie(d)

        def change(current, new, error_slot):
            d.find_element("css selector", "#change-password").click()
            rp.wait(d, "the password dialog open",
                    lambda x: x.execute_script("return document.getElementById('password-dialog').open"), 5)
            for field, value in (("#pw-current", current), ("#pw-new", new)):
                e = d.find_element("css selector", field)
                e.clear()
                e.send_keys(value)
            d.find_element("css selector", "#pw-submit").click()
            if not error_slot:
                return ""
            shown = rp.wait(d, f"the error next to {error_slot}",
                            lambda x: rp.text(x, f'.field-error[data-for="{error_slot}"]'), 10)
            d.find_element("css selector", "#pw-cancel").click()
            return shown

        out["pwShortError"] = change(args.password, "short", "pw-new")
        out["pwWrongCurrentError"] = change("not the password", args.new_password, "pw-current")
        change(args.password, args.new_password, None)
        rp.wait(d, "the login form after the password change", lambda x: rp.visible(x, "#login-form"), 10)
        out["pwChangedMessage"] = rp.text(d, "#login-message")
        out["myCookieAfterChange"] = rp.http("GET", base + "/api/v1/session", headers={"Cookie": f"{rp.session_cookie_name(base)}={mine}"})[0]
        out["otherSessionAfter"] = rp.http("GET", base + "/api/v1/session", headers={"Cookie": other})[0]
        login = lambda pw: rp.http("POST", base + "/api/v1/session", json.dumps({"password": pw}),
                                   {"Content-Type": "application/json"})[0]
        out["oldPasswordAfterChange"] = login(args.password)
        rp.login(d, base, args.new_password)
        out["newPasswordLogin"] = True
        out["consoleErrors"] = errors + rp.console_errors(d, noisy + ("status of 422",))
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
