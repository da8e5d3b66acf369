"""Confidence monitoring on the page (issue 11, first acceptance point).

Logs in; waits for both thumbnails to be decoded (naturalWidth > 0) and saves each, as the browser
shows it, twice a few seconds apart (PNG files in --out: the Swift test compares them with FFmpeg);
reads the audio meters' numbers (peak and RMS per channel, momentary and short-term loudness) ten
times over two seconds; reports the console's errors.
"""

import base64
import os
import re
import time

import rillpage as rp

# The picture as the page shows it: the <img> drawn at its natural size on a canvas, as PNG.
GRAB = """
const img = document.getElementById(arguments[0]);
if (!img || !img.complete || img.naturalWidth === 0) return null;
const c = document.createElement('canvas');
c.width = img.naturalWidth; c.height = img.naturalHeight;
c.getContext('2d').drawImage(img, 0, 0);
return {width: img.naturalWidth, height: img.naturalHeight, src: img.src.slice(0, 5),
        png: c.toDataURL('image/png')};
"""

NUMBER = re.compile(r"-?\d+(\.\d+)?")


def number(text):
    """The first decimal number in `text`, or None ("—", "-inf")."""
    m = NUMBER.search(text.replace("\u2212", "-"))
    return float(m.group(0)) if m else None


def meters(driver):
    """{channel: {"peak", "rms"}} from #meters and the two loudness numbers, as the page shows them."""
    rows = driver.execute_script(
        "return [...document.querySelectorAll('#meters [data-channel]')].map(r => ["
        "r.dataset.channel, r.querySelector('.peak-value')?.textContent || '',"
        " r.querySelector('.rms-value')?.textContent || '']);")
    return {
        "channels": {ch: {"peak": number(p), "rms": number(r), "peakText": p, "rmsText": r} for ch, p, r in rows},
        "momentary": number(rp.text(driver, "#lufs-momentary")),
        "shortTerm": number(rp.text(driver, "#lufs-short")),
    }


def main():
    args = rp.arguments(lambda p: p.add_argument("--out", required=True, help="directory for the grabbed pictures"))
    out, d = {}, rp.browser()
    os.makedirs(args.out, exist_ok=True)
    try:
        rp.login(d, args.base, args.password)
        start = time.monotonic()
        for name in ("source", "program"):
            first = rp.wait(d, f"#thumb-{name} decoded", lambda x: x.execute_script(GRAB, f"thumb-{name}"), 20)
            out[f"{name}LoadSeconds"] = rp.elapsed(start)
            out[f"{name}Width"], out[f"{name}Src"] = first["width"], first["src"]
            out[f"{name}First"] = save(args.out, f"{name}-1.png", first["png"])
        # The short-term loudness needs 3 s of audio; then ten readings over two seconds.
        rp.wait(d, "short-term loudness shown", lambda x: meters(x)["shortTerm"] is not None, 20)
        readings = []
        for _ in range(10):
            readings.append(meters(d))
            time.sleep(0.2)
        out["meters"] = readings
        out["meterBarWidths"] = d.execute_script(
            "return [...document.querySelectorAll('#meters [data-channel]')].map(r => r.getBoundingClientRect().width)")
        time.sleep(2.5)  # the pictures refresh every second; the burnt-in counter moves on
        for name in ("source", "program"):
            later = rp.wait(d, f"#thumb-{name} again", lambda x: x.execute_script(GRAB, f"thumb-{name}"), 10)
            out[f"{name}Second"] = save(args.out, f"{name}-2.png", later["png"])
            out[f"{name}Changed"] = read(out[f"{name}First"]) != read(out[f"{name}Second"])
        out["unavailable"] = d.execute_script(
            "return [...document.querySelectorAll('.thumb-box')].map(b => b.dataset.unavailable || '')")
        out["consoleErrors"] = rp.console_errors(d)
        out["screenshot"] = rp.screenshot(d, os.path.join(args.out, "confidence.png"))
        return out
    finally:
        d.quit()


def save(directory, name, data_url):
    """Writes a data: URL's PNG bytes to directory/name; returns the path."""
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(base64.b64decode(data_url.split(",", 1)[1]))
    return path


def read(path):
    """A file's bytes."""
    with open(path, "rb") as f:
        return f.read()


if __name__ == "__main__":
    rp.run(main)
