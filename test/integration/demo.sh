#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# README's main job, on a systemd host: build the default image from Debian's busybox-static (no network),
# import it, and run a pod from it. Prints what the pod printed.
set -euo pipefail
src=${ROCKET_TEST_DIR:-$(cd "$(dirname "$0")/.." && pwd)}

img=$(mktemp -d /var/tmp/rocket-demo.XXXXXX)
trap 'rm -rf "$img"' EXIT
bash "$src/fixtures/mkbusybox.sh" "$img/busybox"
rocket fetch --name=busybox:demo "oci:$img/busybox:latest" >/dev/null
echo "\$ rocket run --name=demo busybox:demo"
rocket run --name=demo busybox:demo
echo "\$ rocket status demo"
rocket status demo
echo "\$ journalctl -m _MACHINE_ID=$(rocket status --format=json demo | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p' | tr -d -) -o cat"
journalctl -m _MACHINE_ID="$(rocket status --format=json demo | sed -n 's/.*"uuid":"\([^"]*\)".*/\1/p' | tr -d -)" -o cat --no-pager -t busybox
rocket rm demo >/dev/null
