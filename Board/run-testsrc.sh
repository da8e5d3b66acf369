#!/usr/bin/env bash
# The run command (README): installs the C libraries Rill links against, builds the release
# binary, and runs the box in the foreground on the built-in test source (colour bars, timecode,
# 1 kHz tone) with one RTP output and its SDP file. Extra arguments go to `rill run`
# (e.g. --config Board/x86-64/rill.json). Stop with Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
Board/install-deps.sh build
export PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product rill
exec .build/release/rill run "$@"
