#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every built man page renders without a warning from man(1) (groff's too). TAP output.
set -uo pipefail

n=0 failed=0
for page in "$@"; do
        n=$((n + 1))
        name=$(basename "$page")
        out=$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
        if [ -z "$out" ]; then
                echo "ok $n - $name renders without warnings"
        else
                failed=$((failed + 1))
                echo "not ok $n - $name renders without warnings"
                printf '%s\n' "$out" | sed 's/^/# /'
        fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
