"""Screenshots of the page for the README (issue 11: wide and phone width), made by the test run.

Logs in with the keyboard only at 1600×1000 (a monitor wall), checks labels, button names, landmarks
and the live region, waits until the page is full (both thumbnails, meters with
loudness, every output card, an SRT peer row when --peer is given), writes --screenshots/page-wide.png;
then at 390×844 (a phone) checks nothing overflows sideways and writes page-phone.png.
"""

import os
import time

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import rillpage as rp

FULL = """
const img = (id) => { const i = document.getElementById(id); return i && i.complete && i.naturalWidth > 0; };
return img('thumb-source') && img('thumb-program')
  && /\\d/.test(document.getElementById('lufs-short')?.textContent || '')
  && document.querySelectorAll('[id^=card-output-]').length >= arguments[0]
  && (!arguments[1] || !!document.querySelector('.peer[data-peer="' + arguments[1] + '"]'));
"""

A11Y = """
const named = (e) => (e.id && document.querySelector('label[for="' + e.id + '"]')) || e.closest('label')
  || e.getAttribute('aria-label') || e.getAttribute('aria-labelledby');
const fields = [...document.querySelectorAll('input, select, textarea')].filter(e => e.type !== 'hidden' && !e.hidden);
return {
  fields: fields.length,
  unlabelled: fields.filter(e => !named(e)).map(e => e.id || e.name || e.outerHTML.slice(0, 80)),
  unnamedButtons: [...document.querySelectorAll('button')].filter(b => !b.textContent.trim()
    && !b.getAttribute('aria-label')).map(b => b.outerHTML.slice(0, 80)),
  missingLandmarks: ['header', 'main', 'nav'].filter(t => !document.querySelector(t)),
  connLive: document.getElementById('conn-state').getAttribute('aria-live') || '',
  badges: [...document.querySelectorAll('[data-state] .badge')].map(b => b.textContent.trim()),
};
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
        # Keyboard only: Tab to the password field, type, Enter.
        d.get(args.base + "/")
        rp.wait(d, "login form", lambda x: rp.visible(x, "#login-password"))
        body = d.find_element(By.TAG_NAME, "body")
        tabs = 0
        while d.execute_script("return document.activeElement.id") != "login-password" and tabs < 15:
            d.switch_to.active_element.send_keys(Keys.TAB) if tabs else body.send_keys(Keys.TAB)
            tabs += 1
        out["tabsToPassword"] = tabs
        d.switch_to.active_element.send_keys(args.password + Keys.ENTER)
        rp.wait(d, "logged in by keyboard", lambda x: rp.visible(x, "#logout") and not rp.visible(x, "#login-form"))
        rp.wait(d, "the page full (thumbnails, loudness, output cards, peer)",
                lambda x: x.execute_script(FULL, args.outputs, args.peer), 30)
        time.sleep(3)  # a few seconds of sparkline
        out["wideLayout"] = d.execute_script(LAYOUT)
        out["accessibility"] = d.execute_script(A11Y)
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
