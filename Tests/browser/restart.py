"""The page through a box restart (issue 11 point 5: "keeps working through a box restart
(reconnects SSE, shows 'reconnecting')").

Logs in and waits for "live"; checkpoint "down" (the test stops the box): the header must say
reconnecting; checkpoint "up" (the test starts the box again): the page must come back by itself —
to the login form when the session did not survive (then live again after the login), or live at
once — with the thumbnails back and both streams reconnected: checkpoint "tone" (the test turns the
tone down): the meters follow and the event log shows the CONFIG_CHANGED event.
"""

import time

import rillpage as rp

CONN = "return [document.getElementById('conn-state').dataset.conn, document.getElementById('conn-state').textContent]"


def main():
    out, d = {}, rp.browser()
    args = rp.arguments()
    try:
        rp.login(d, args.base, args.password)
        out["live"] = rp.wait(d, "live", lambda x: (c := x.execute_script(CONN))[0] == "live" and c, 15)
        rp.wait(d, "loudness shown", lambda x: any(ch.isdigit() for ch in rp.text(x, "#lufs-momentary")), 15)
        out["errorsBefore"] = rp.console_errors(d)
        rp.checkpoint(args, "down")
        start = time.monotonic()
        out["down"] = rp.wait(d, "reconnecting shown",
                              lambda x: (c := x.execute_script(CONN))[0] == "reconnecting" and c, 15)
        out["downSeconds"] = rp.elapsed(start)
        rp.checkpoint(args, "up")
        start = time.monotonic()
        back = rp.wait(d, "the page back (login form or live)",
                       lambda x: ("login" if rp.visible(x, "#login-form") else
                                  "live" if x.execute_script(CONN)[0] == "live" else None), 40)
        out["back"], out["backSeconds"] = back, rp.elapsed(start)
        out["loginMessage"] = rp.text(d, "#login-message") if back == "login" else ""
        rp.console_errors(d, ())  # the refused connections while the box was down
        if back == "login":
            rp.login(d, args.base, args.password)
        out["liveAgain"] = rp.wait(d, "live again", lambda x: (c := x.execute_script(CONN))[0] == "live" and c, 20)
        # The levels stream and the thumbnails resumed: the loudness readings change, the pictures load.
        rp.wait(d, "thumbnails again", lambda x: x.execute_script(
            "return ['thumb-source', 'thumb-program'].every(i => document.getElementById(i).naturalWidth > 0)"), 20)
        changes = "return document.querySelectorAll('#event-log li[data-kind=CONFIG_CHANGED]').length"
        out["configEventsBefore"] = d.execute_script(changes)
        rp.checkpoint(args, "tone")  # the test turns the tone down to -30 dBFS through the API
        peak = '#meters [data-channel="0"] .peak-value, #meters [data-channel="1"] .peak-value'
        out["peakAfterTone"] = rp.wait(d, "the meters follow the tone to -30 dBFS",
                                       lambda x: (v := rp.text(x, peak)) and v.startswith("-30") and v, 10)
        out["configEventsAfter"] = rp.wait(d, "the CONFIG_CHANGED event in the log",
                                           lambda x: (n := x.execute_script(changes)) > out["configEventsBefore"]
                                           and n, 10)
        out["consoleErrors"] = out.pop("errorsBefore") + rp.console_errors(d)
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
