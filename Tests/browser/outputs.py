"""Operating the outputs through the page (issue 11, second acceptance point).

With the form: adds an RTP output --id at 127.0.0.1:--port (with an SDP file), edits its port to
--port2, enters port 70000 (the server's 422 shown next to the port field, nothing saved), stops and
starts it with its card's buttons, fetches its SDP through the card's link, deletes it. After each
step a checkpoint (--sync) lets the Swift test look at the wire before the page goes on.
"""

import json
import os

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import rillpage as rp


def card(driver, oid):
    """The output's card element, or None."""
    found = driver.find_elements(By.CSS_SELECTOR, f"#card-output-{oid}")
    return found[0] if found else None


def card_state(driver, oid):
    """(data-state, badge text, url text, dd.state text) of the output's card, or None."""
    c = card(driver, oid)
    if c is None:
        return None
    badge = c.find_elements(By.CSS_SELECTOR, ".badge")
    return (c.get_attribute("data-state"), badge[0].text.strip() if badge else "",
            c.find_element(By.CSS_SELECTOR, ".url-text").text.strip(),
            c.find_element(By.CSS_SELECTOR, "dd.state").text.strip())


def click(driver, css):
    """Clicks the element `css` (scrolled into view first)."""
    e = rp.wait(driver, f"{css} present", lambda x: x.find_elements(By.CSS_SELECTOR, css), 10)[0]
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", e)
    e.click()
    return e


def fill(driver, field_id, value):
    """Replaces the text of input #field_id with `value`."""
    e = driver.find_element(By.ID, field_id)
    e.clear()
    e.send_keys(value)


def dialog_open(driver):
    """Whether the output form's dialog is open."""
    return driver.execute_script("return document.getElementById('output-dialog').open")


def config_outputs(driver):
    """GET /api/v1/config/outputs through the page's session."""
    return json.loads(rp.fetch(driver, "GET", "/api/v1/config/outputs")["body"])


def main():
    def extra(p):
        p.add_argument("--id", default="web")
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--port2", type=int, required=True)
        p.add_argument("--sdp", required=True, help="where the box writes the output's SDP")
        p.add_argument("--out", required=True, help="directory for the downloaded SDP")

    args = rp.arguments(extra)
    oid, out, d = args.id, {}, rp.browser()
    try:
        rp.login(d, args.base, args.password)
        rp.wait(d, "the status shown (a first output card)",
                lambda x: x.find_elements(By.CSS_SELECTOR, "[id^=card-output-]"))

        # Add: the form builds the URL from scheme, host and port.
        click(d, "#add-output")
        rp.wait(d, "the output form open", dialog_open, 5)
        fill(d, "of-id", oid)
        Select(d.find_element(By.ID, "of-scheme")).select_by_value("rtp")
        fill(d, "of-host", "127.0.0.1")
        fill(d, "of-port", str(args.port))
        fill(d, "of-sdp", args.sdp)
        out["builtURL"] = rp.text(d, "#of-url")
        click(d, "#of-save")
        rp.wait(d, "the form closed after saving", lambda x: not dialog_open(x), 10)
        out["added"] = rp.wait(d, f"card of {oid} running",
                               lambda x: (s := card_state(x, oid)) and s[0] == "ok" and s[3] == "running" and s, 15)
        rp.checkpoint(args, "added")

        # Edit the port.
        click(d, f"[data-action=edit][data-output={oid}]")
        rp.wait(d, "the form open for editing", dialog_open, 5)
        out["editFormPort"] = d.find_element(By.ID, "of-port").get_attribute("value")
        fill(d, "of-port", str(args.port2))
        click(d, "#of-save")
        rp.wait(d, "the form closed after the edit", lambda x: not dialog_open(x), 10)
        out["edited"] = rp.wait(d, f"card of {oid} on port {args.port2}",
                                lambda x: (s := card_state(x, oid)) and f":{args.port2}" in s[2]
                                and s[3] == "running" and s, 15)
        rp.checkpoint(args, "edited")

        # A bad value: the server's 422 next to the port field, the form kept open, nothing saved.
        before = config_outputs(d)
        click(d, f"[data-action=edit][data-output={oid}]")
        rp.wait(d, "the form open for the bad value", dialog_open, 5)
        fill(d, "of-port", "70000")
        click(d, "#of-save")
        out["portError"] = rp.wait(d, "the server's error next to the port field",
                                   lambda x: rp.text(x, '.field-error[data-for="of-port"]'), 10)
        out["formError"] = rp.text(d, "#output-form-error")
        out["portInvalid"] = d.find_element(By.ID, "of-port").get_attribute("aria-invalid")
        out["formKeptOpen"] = dialog_open(d)
        out["portKept"] = d.find_element(By.ID, "of-port").get_attribute("value")
        out["configUnchangedByBadValue"] = config_outputs(d) == before
        click(d, "#of-cancel")
        rp.wait(d, "the form closed by Cancel", lambda x: not dialog_open(x), 5)
        rp.checkpoint(args, "rejected")

        # Stop and start with the card's buttons.
        click(d, f"[data-action=stop][data-output={oid}]")
        out["stopped"] = rp.wait(d, f"card of {oid} stopped",
                                 lambda x: (s := card_state(x, oid)) and s[0] == "off" and s, 10)
        rp.checkpoint(args, "stopped")
        click(d, f"[data-action=start][data-output={oid}]")
        out["started"] = rp.wait(d, f"card of {oid} running again",
                                 lambda x: (s := card_state(x, oid)) and s[0] == "ok" and s[3] == "running" and s, 10)
        rp.checkpoint(args, "started")

        # The SDP through the card's link (a GET with the session cookie, as the download does).
        link = d.find_element(By.CSS_SELECTOR, f"a[data-action=sdp][data-output={oid}]")
        out["sdpLinkShown"], out["sdpDownloadName"] = link.is_displayed(), link.get_attribute("download")
        got = rp.fetch(d, "GET", link.get_attribute("href"))
        out["sdpStatus"] = got["status"]
        out["sdpFile"] = os.path.join(args.out, f"{oid}.sdp")
        os.makedirs(args.out, exist_ok=True)
        with open(out["sdpFile"], "w") as f:
            f.write(got["body"])
        rp.checkpoint(args, "sdp")

        # Delete: two clicks (the first asks for confirmation).
        click(d, f"[data-action=delete][data-output={oid}]")
        out["deleteConfirm"] = d.find_element(
            By.CSS_SELECTOR, f"[data-action=delete][data-output={oid}]").get_attribute("data-confirm")
        click(d, f"[data-action=delete][data-output={oid}]")
        rp.wait(d, f"card of {oid} gone", lambda x: card(x, oid) is None, 10)
        out["outputsAfterDelete"] = [o["id"] for o in config_outputs(d)]
        rp.checkpoint(args, "deleted")
        # The 422 this test provoked is logged by Chromium as a failed load; nothing else may be.
        out["consoleErrors"] = rp.console_errors(d, (rp.LOGIN_PROBE, "status of 422 (Unprocessable"))
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
