#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The command line surface: --help matches the golden text, version, and every usage error is one line
# on stderr with exit status 2 and nothing on stdout. TAP output.
set -uo pipefail

rocket=$1 testdir=$2 version=$3
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

# expect_usage DESCRIPTION ARGS...: exit 2, one stderr line, empty stdout.
expect_usage() {
        local what=$1 rc=0
        shift
        "$rocket" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
        if [ "$rc" -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
                ok "$what"
        else
                not_ok "$what" "exit $rc" "stdout: $(cat "$tmp/out")" "stderr: $(cat "$tmp/err")"
        fi
}

echo "1..12"

env -u ROCKET_DIR "$rocket" --help >"$tmp/help" 2>&1
if diff -u "$testdir/expected/rocket-help.txt" "$tmp/help" >"$tmp/diff"; then
        ok "--help matches test/expected/rocket-help.txt"
else
        not_ok "--help matches test/expected/rocket-help.txt" "$(cat "$tmp/diff")"
fi

out=$("$rocket" version 2>&1)
if [ "$(sed -n 1p <<<"$out")" = "rocket $version" ] && grep -q '^Features: .*+SECCOMP' <<<"$out" &&
   grep -q '^Default stage1: /.*/stage1-systemd$' <<<"$out"; then
        ok "version prints version, features and the default stage1"
else
        not_ok "version prints version, features and the default stage1" "$out"
fi

[ "$("$rocket" --version)" = "rocket $version" ] && ok "--version" || not_ok "--version"

expect_usage "no command" 
expect_usage "unknown command" frobnicate
expect_usage "unknown global option" --frobnicate
expect_usage "unknown short option" -x version
expect_usage "global option missing its argument" --dir
expect_usage "relative --dir" --dir=relative version
expect_usage "unknown verb option" version --frobnicate
expect_usage "unexpected verb argument" version extra
expect_usage "bad log target" --log-target=syslog version

[ "$failed" -eq 0 ]
