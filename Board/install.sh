#!/usr/bin/env bash
# Lays Rill out on a board: binary, systemd units (service, sysusers, tmpfiles, sysctl), the JSON
# Schema, a main config (kept if present) and the board profile as /etc/rill/conf.d/10-board.json.
# Usage: Board/install.sh --profile x86-64|rpi-armv7|qemu-virt [--root DIR] [--binary PATH]
#   --root DIR   install into DIR (an image being built, or a test); without it, into / and the
#                service is enabled and started.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
profile=""; root=""; binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --root) root=$2; shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    *) echo "usage: $0 --profile NAME [--root DIR] [--binary PATH]" >&2; exit 2 ;;
  esac
done
[ -f "$here/profiles/$profile.json" ] || { echo "install: no profile \"$profile\" (have: $(cd "$here/profiles" && ls *.json | sed 's/.json//' | tr '\n' ' '))" >&2; exit 2; }
if [ -z "$binary" ]; then
  binary="$repo/.build/release/rill"
  [ -x "$binary" ] || (cd "$repo" && swift build -c release --product rill)
fi
R=${root%/}
install -d "$R/usr/bin" "$R/lib/systemd/system" "$R/usr/lib/sysusers.d" "$R/usr/lib/tmpfiles.d" \
  "$R/etc/sysctl.d" "$R/usr/share/rill" "$R/etc/rill/conf.d"
install -m 0755 "$binary" "$R/usr/bin/rill"
install -m 0644 "$repo/Systemd/rill.service" "$R/lib/systemd/system/rill.service"
install -m 0644 "$repo/Systemd/rill.sysusers.conf" "$R/usr/lib/sysusers.d/rill.conf"
install -m 0644 "$repo/Systemd/rill.tmpfiles.conf" "$R/usr/lib/tmpfiles.d/rill.conf"
install -m 0644 "$repo/Systemd/rill-sysctl.conf" "$R/etc/sysctl.d/60-rill.conf"
install -m 0644 "$here/rill-config.schema.json" "$R/usr/share/rill/rill-config.schema.json"
install -m 0644 "$here/grafana-dashboard.json" "$R/usr/share/rill/grafana-dashboard.json"
install -m 0640 "$here/profiles/$profile.json" "$R/etc/rill/conf.d/10-board.json"
if [ ! -f "$R/etc/rill/rill.json" ]; then
  cat > "$R/etc/rill/rill.json" <<'JSON'
{
  "system": { "instance": "default", "runDirectory": "/run/rill" },
  "program": { "serviceName": "Rill", "providerName": "Rill", "mode": "vbr" },
  "outputs": [
    { "id": "mc", "url": "rtp://239.255.42.1:5000?ttl=4", "sdp": "/run/rill/default/mc.sdp", "enabled": false }
  ],
  "api": { "address": "127.0.0.1", "port": 8080, "credentials": "/etc/rill/credentials.json" }
}
JSON
  chmod 0640 "$R/etc/rill/rill.json"
fi
"$R/usr/bin/rill" check --config "$R/etc/rill/rill.json" --config-dir "$R/etc/rill/conf.d"
if [ -z "$R" ]; then
  systemd-sysusers
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/rill.conf
  chown -R rill:rill /etc/rill
  sysctl --system > /dev/null
  systemctl daemon-reload
  systemctl enable --now rill.service
  echo "install: rill.service running; set the admin password with: rill passwd --credentials /etc/rill/credentials.json"
else
  echo "install: laid out in $R (profile $profile)"
fi
