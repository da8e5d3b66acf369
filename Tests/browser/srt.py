"""SRT peers on an output's card (issue 11, third acceptance point).

Waits for the rows of both --peer addresses on the card of output --id; reads their RTT, loss and
retransmission figures and the points of their sparklines once a second for --seconds; then
(checkpoint "kill") the test kills the second client, and this measures how long its row stays.
"""

import time

from selenium.webdriver.common.by import By

import rillpage as rp

ROWS = """
return [...document.querySelectorAll('#card-output-' + arguments[0] + ' .peer')].map(r => ({
  peer: r.dataset.peer,
  rtt: r.querySelector('.rtt')?.textContent || '',
  loss: r.querySelector('.loss')?.textContent || '',
  retrans: r.querySelector('.retrans')?.textContent || '',
  state: r.dataset.state || '',
  spark: [...r.querySelectorAll('svg polyline')].map(l => (l.getAttribute('points') || '').split(' ')
                                                        .filter(Boolean).length)
}));
"""


def rows(driver, oid):
    """{peer: row} of the card's peer rows as shown."""
    return {r["peer"]: r for r in driver.execute_script(ROWS, oid)}


def main():
    def extra(p):
        p.add_argument("--id", default="srt")
        p.add_argument("--peer", action="append", required=True, help="ip:port of a client (twice)")
        p.add_argument("--seconds", type=int, default=8)

    args = rp.arguments(extra)
    oid, out, d = args.id, {}, rp.browser()
    try:
        rp.login(d, args.base, args.password)
        rp.wait(d, f"both peers on the card of {oid}",
                lambda x: all(p in rows(x, oid) for p in args.peer), 20)
        samples = []
        for _ in range(args.seconds):
            samples.append(rows(d, oid))
            time.sleep(1)
        out["samples"] = samples
        out["cardState"] = d.find_element(By.CSS_SELECTOR, f"#card-output-{oid}").get_attribute("data-state")
        out["errorsBeforeKill"] = rp.console_errors(d)
        rp.checkpoint(args, "kill")
        start, gone = time.monotonic(), args.peer[1]
        rp.wait(d, f"the row of {gone} gone", lambda x: gone not in rows(x, oid), 10)
        out["goneSeconds"] = rp.elapsed(start)
        out["rowsAfter"] = list(rows(d, oid))
        time.sleep(2)  # and it stays gone
        out["rowsLater"] = list(rows(d, oid))
        out["consoleErrors"] = out.pop("errorsBeforeKill") + rp.console_errors(d)
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
