#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Apps' I/O: rocket run -i with piped input, -it on a real terminal (a command typed in, its tty, a window
# size change, the exit status typed), rocket attach to a tty app (input, output, detach, attach again,
# the journal still has it all), streams with several readers at once, and what is refused.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
drive=$ROCKET_TEST_DIR/fixtures/pty-drive.py
bg=
trap '[ -z "$bg" ] || kill $bg 2>/dev/null || true' EXIT

# --- -i: piped input reaches the app, its output ours, its exit status ours --------------------------------
assert_eq data "$(echo data | rocket run -i "$img" --exec /bin/cat)"
assert_eq "3 lines" "$(printf 'a\nb\nc\n' | rocket run -i "$img" --exec /bin/sh -- -c 'echo "$(wc -l) lines"')"
rc=0
echo 'exit 4' | rocket run --interactive "$img" --exec /bin/sh || rc=$?
assert_eq 4 "$rc"
# Without -i, nothing of ours reaches the app.
assert_eq "" "$(echo data | rocket run "$img" --exec /bin/cat)"
# Its stderr is ours too, apart from its stdout.
out=$(rocket run -i "$img" --exec /bin/sh -- -c 'echo to-out; echo to-err >&2' 2>"$fx/err" </dev/null)
assert_eq to-out "$out"
assert_eq to-err "$(cat "$fx/err")"

# --- -it on a terminal: a shell typed into, a terminal, resized, the exit status typed ----------------------
out=$("$drive" 30 90 'expect:# ' 'send:tty; stty size\n' 'expect:30 90' 'winsize:40:100' \
        'send:stty size\n' 'expect:40 100' 'send:exit 7\n' wait -- rocket run -it "$img" --exec /bin/sh) || rc=$?
assert_eq 7 "$rc"
assert_in /dev/pts/ "$out"
assert_fails_with 2 "needs a terminal" rocket run -t "$img" --exec /bin/true </dev/null
assert_fails_with 2 "one app" rocket run -i "$img" --exec /bin/true --- "$img" --name=two --exec /bin/true

# --- attach to a tty app: input, output, detach, again; the journal keeps it -------------------------------
rocket run --name=tt "$img" --stdin=tty --stdout=tty --exec /bin/sh >/dev/null 2>&1 &
bg=$!
wait_until "rocket status tt 2>/dev/null | grep -q '=running'"
out=$("$drive" 24 80 'send:echo hello-$((6*7))\n' 'expect:hello-42' 'send:\x10\x11' wait -- rocket attach tt)
assert_in "Detached from app" "$out"
out=$("$drive" 24 80 'send:echo again-$((2+3))\n' 'expect:again-5' 'send:\x10\x11' wait -- rocket attach tt --app=busybox)
wait_until "rocket logs tt | grep -q hello-42"
rocket logs tt | grep -q again-5
rocket status tt | grep -q 'busybox=running'
# The shell ends on exit typed through attach: so does attach, with its status.
rc=0
"$drive" 24 80 'send:exit 3\n' wait -- rocket attach tt || rc=$?
assert_eq 3 "$rc"
wait "$bg" || true
bg=

# --- streams: several readers of stdout at once, a writer's end is the app's --------------------------------
rocket run --name=st "$img" --stdin=stream --stdout=stream --stderr=stream --exec /bin/cat >/dev/null 2>&1 &
bg=$!
wait_until "[ -S /proc/\$(rocket status --format=json st 2>/dev/null | jq -r .pid)/root/run/rocket/io/busybox.sock ]"
rocket attach st --mode=stdout >"$fx/r1" &
r1=$!
rocket attach st --mode=stdout >"$fx/r2" &
r2=$!
# A writer that stays until both readers have the line (they attach meanwhile), then ends the app's input.
mkfifo "$fx/in"
rocket attach st --mode=stdin <"$fx/in" &
w=$!
exec 7>"$fx/in"
wait_until "echo shared-line >&7; grep -q shared-line $fx/r1 && grep -q shared-line $fx/r2"
exec 7>&-
wait "$w" "$r1" "$r2"
assert_eq shared-line "$(sort -u "$fx/r1")"
assert_eq shared-line "$(sort -u "$fx/r2")"
wait "$bg" || true
bg=
rocket logs st | grep -q shared-line

# --- refused: an app with nothing to attach to, a mode it does not have, a pod not running ------------------
rocket run --name=plain "$img" --exec /bin/sleep -- 1000 >/dev/null 2>&1 &
bg=$!
wait_until "rocket status plain 2>/dev/null | grep -q '=running'"
assert_fails_with 254 "no app with a terminal or streams" rocket attach plain
assert_fails_with 254 "journal" rocket attach plain --app=busybox
rocket stop plain >/dev/null
wait "$bg" || true
bg=
assert_fails_with 254 "not running" rocket attach plain
assert_fails_with 2 "invalid --stdin" rocket run "$img" --stdin=log --exec /bin/true
assert_fails_with 2 "--stdout=tty" rocket run "$img" --stdin=tty --exec /bin/true
# fly keeps no app I/O: refused in one line, as anything else it cannot honour.
assert_fails_with 254 "app-io" rocket run -i --stage1-name=fly "$img" --exec /bin/true
assert_fails_with 254 "app-io" rocket run --stage1-name=fly "$img" --stdout=stream --exec /bin/true
