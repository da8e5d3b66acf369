"""Signal loss on the page (issue 11: "Signal loss turns the source card red and the program
thumbnail shows the slate").

Logs in, waits for the source card OK and grabs the program thumbnail (the bars); checkpoint "lose"
(the test sets the test source's signal to lost), then waits for the source card's alarm and a
program thumbnail that differs from the bars, grabs it (PNG in --out); checkpoint "restore" (the test
sets the signal back), waits for the card to be OK again.
"""

import os
import time

from selenium.webdriver.common.by import By

import rillpage as rp
from confidence import GRAB, save


def source_card(driver):
    """(data-state, badge text, signal text) of #card-source."""
    card = driver.find_element(By.ID, "card-source")
    badge = card.find_elements(By.CSS_SELECTOR, ".badge")
    return (card.get_attribute("data-state"), badge[0].text.strip() if badge else "",
            rp.text(driver, "#card-source dd.signal"))


def main():
    args = rp.arguments(lambda p: p.add_argument("--out", required=True))
    out, d = {}, rp.browser()
    os.makedirs(args.out, exist_ok=True)
    try:
        rp.login(d, args.base, args.password)
        out["before"] = rp.wait(d, "source card OK", lambda x: (s := source_card(x))[0] == "ok" and s, 20)
        bars = rp.wait(d, "program thumbnail", lambda x: x.execute_script(GRAB, "thumb-program"), 20)
        out["barsThumb"] = save(args.out, "program-bars.png", bars["png"])
        rp.checkpoint(args, "lose")
        start = time.monotonic()
        out["lost"] = rp.wait(d, "source card in alarm", lambda x: (s := source_card(x))[0] == "alarm" and s, 15)
        out["alarmSeconds"] = rp.elapsed(start)
        time.sleep(3)  # the next keyframe carries the slate (a keyframe a second)
        slate = rp.wait(d, "program thumbnail again", lambda x: x.execute_script(GRAB, "thumb-program"), 10)
        out["slateThumb"] = save(args.out, "program-slate.png", slate["png"])
        out["thumbSize"] = [slate["width"], slate["height"]]
        out["eventKinds"] = d.execute_script(
            "return [...document.querySelectorAll('#event-log li')].map(l => l.dataset.kind)")
        rp.checkpoint(args, "restore")
        out["restored"] = rp.wait(d, "source card OK again", lambda x: (s := source_card(x))[0] == "ok" and s, 15)
        out["consoleErrors"] = rp.console_errors(d)
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
