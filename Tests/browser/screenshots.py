"""Screenshots of the page for the README (issue 11: wide and phone width), made by the test run.

Logs in at 1600×1000 (a monitor wall), waits until the page is full (both thumbnails, meters with
loudness, every output card, an SRT peer row when --peer is given), writes --screenshots/page-wide.png;
then at 390×844 (a phone) checks nothing overflows sideways and writes page-phone.png.
"""

import os
import time

import rillpage as rp

FULL = """
const img = (id) => { const i = document.getElementById(id); return i && i.complete && i.naturalWidth > 0; };
return img('thumb-source') && img('thumb-program')
  && /\\d/.test(document.getElementById('lufs-short')?.textContent || '')
  && document.querySelectorAll('[id^=card-output-]').length >= arguments[0]
  && (!arguments[1] || !!document.querySelector('.peer[data-peer="' + arguments[1] + '"]'));
"""

LAYOUT = """
return {inner: window.innerWidth, height: window.innerHeight, scroll: document.documentElement.scrollWidth,
        columns: getComputedStyle(document.getElementById('output-cards')).gridTemplateColumns.split(' ').length};
"""


def main():
    def extra(p):
        p.add_argument("--outputs", type=int, default=1, help="output cards to wait for")
        p.add_argument("--peer", default="", help="an SRT peer row to wait for")

    args = rp.arguments(extra)
    out, d = {}, rp.browser(1600, 1000)
    try:
        rp.viewport(d, 1600, 1000)
        rp.login(d, args.base, args.password)
        rp.wait(d, "the page full (thumbnails, loudness, output cards, peer)",
                lambda x: x.execute_script(FULL, args.outputs, args.peer), 30)
        time.sleep(3)  # a few seconds of sparkline
        out["wideLayout"] = d.execute_script(LAYOUT)
        out["wide"] = rp.screenshot(d, os.path.join(args.screenshots, "page-wide.png"))
        rp.viewport(d, 390, 844, mobile=True)
        rp.wait(d, "the phone layout applied", lambda x: x.execute_script("return window.innerWidth") <= 390, 5)
        time.sleep(1.5)  # the thumbnails are fetched again at the narrow width
        d.execute_script("window.scrollTo(0, 0)")
        out["phoneLayout"] = d.execute_script(LAYOUT)
        out["phone"] = rp.screenshot(d, os.path.join(args.screenshots, "page-phone.png"))
        out["consoleErrors"] = rp.console_errors(d)
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
