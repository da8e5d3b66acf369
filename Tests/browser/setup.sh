#!/usr/bin/env bash
# The browser tests' Python: a venv at .build/browser-venv (inside .build, so git ignores it and a
# clean clone makes it anew) with Debian's python3 and Selenium from PyPI. Selenium drives Debian's
# chromium through Debian's chromedriver (Board/install-deps.sh test installs both); it never
# downloads a driver (rillpage.py names the driver's path, so Selenium Manager stays offline).
# Idempotent: a second run only checks the import.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.build/browser-venv
# Selenium 4.40 and later need a certifi newer than the package registry here offers.
pin='selenium<4.40'
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  exit 0
fi
mkdir -p .build
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pin"
"$venv/bin/python" -c 'import selenium; print("browser venv: selenium", selenium.__version__)'
