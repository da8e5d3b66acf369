"""The raw JSON editor (issue 11 point 3: "a raw JSON editor for every section as a fallback").

Renames the service in section "program" through the editor (checkpoint "renamed": the test reads the
name from the wire), then saves section "outputs" with a port out of range: the server's 422 path and
detail are shown and nothing is saved.
"""

import json

from selenium.webdriver.support.ui import Select

import rillpage as rp

SET = """
const t = document.getElementById('raw-json');
t.value = arguments[0];
t.dispatchEvent(new Event('input', {bubbles: true}));
"""


def load(driver, section):
    """Selects `section` in the editor and returns its JSON once loaded."""
    Select(driver.find_element("id", "raw-section")).select_by_value(section)
    key = {"program": '"serviceName"', "outputs": '"url"'}[section]
    text = rp.wait(driver, f"section {section} loaded",
                   lambda x: (v := x.find_element("id", "raw-json").get_attribute("value")) and key in v and v, 10)
    return json.loads(text)


# Every text the editor puts in its message lines (a reload after a save may clear them at once).
WATCH = """
window.rawMessages = [];
for (const id of ['raw-ok', 'raw-error']) {
  const e = document.getElementById(id);
  new MutationObserver(() => { if (e.textContent) window.rawMessages.push([id, e.textContent]); })
    .observe(e, {childList: true, characterData: true, subtree: true});
}
"""


def messages(driver):
    """[(id, text)] the editor showed since `save`."""
    return driver.execute_script("return window.rawMessages || []")


def save(driver, doc):
    """Puts `doc` into the textarea and clicks Save section (watching the editor's messages)."""
    driver.execute_script(WATCH)
    driver.execute_script(SET, json.dumps(doc, indent=2))
    button = driver.find_element("id", "raw-save")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def main():
    args = rp.arguments(lambda p: p.add_argument("--name", required=True, help="the new service name"))
    out, d = {}, rp.browser()
    try:
        rp.login(d, args.base, args.password)
        # The editor is closed until opened (sections may hold passphrases).
        toggle = d.find_element("id", "raw-toggle")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", toggle)
        toggle.click()
        rp.wait(d, "the raw editor opened", lambda x: x.find_element("id", "raw-form").is_displayed(), 5)
        out["sections"] = rp.wait(d, "the sections listed", lambda x: [
            o.get_attribute("value") for o in x.find_elements("css selector", "#raw-section option")] or None, 10)
        program = load(d, "program")
        out["nameBefore"] = program.get("serviceName")
        program["serviceName"] = args.name
        save(d, program)
        answer = rp.wait(d, "an answer to the save", lambda x: messages(x), 10)
        if answer[0][0] != "raw-ok":
            rp.fail("saving section program", answer[0][1])
        out["savedMessage"] = answer[0][1]
        out["savedMessageStays"] = rp.text(d, "#raw-ok")
        saved = json.loads(rp.fetch(d, "GET", "/api/v1/config/program")["body"])
        out["nameSaved"] = saved.get("serviceName")
        rp.checkpoint(args, "renamed")

        outputs = load(d, "outputs")
        before = rp.fetch(d, "GET", "/api/v1/config/outputs")["body"]
        outputs[0]["url"] = outputs[0]["url"].rsplit(":", 1)[0] + ":70000"
        save(d, outputs)
        shown = rp.wait(d, "the server's 422 in the editor", lambda x: messages(x), 10)
        out["rawError"] = shown[0][1] if shown[0][0] == "raw-error" else f"(not an error: {shown})"
        out["rawInvalid"] = d.find_element("id", "raw-json").get_attribute("aria-invalid")
        out["outputsUnchanged"] = rp.fetch(d, "GET", "/api/v1/config/outputs")["body"] == before
        out["consoleErrors"] = rp.console_errors(d, (rp.LOGIN_PROBE, "status of 422 (Unprocessable"))
        return out
    finally:
        d.quit()


if __name__ == "__main__":
    rp.run(main)
