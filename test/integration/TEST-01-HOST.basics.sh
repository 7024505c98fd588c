#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The test host itself: systemd-machined answers, journald stores what we send, and the installed
# rocket (not the build tree's) is the one on PATH.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

# machined is bus-activated; 'machinectl list' must answer and list no machine yet.
out=$(machinectl list --no-pager)
assert_in "No machines." "$out"
# Over the bus, machined knows only the host itself.
assert_eq "$(busctl call org.freedesktop.machine1 /org/freedesktop/machine1 \
        org.freedesktop.machine1.Manager ListMachines)" \
        'a(ssso) 1 ".host" "host" "" "/org/freedesktop/machine1/machine/_2ehost"'
systemctl is-active systemd-machined.service

# journald stores a message under our tag.
tag=rocket-it-$$
msg="hello from $tag $RANDOM"
echo "$msg" | systemd-cat -t "$tag"
wait_until "journalctl -t $tag -o cat --no-pager | grep -Fx '$msg' >/dev/null"

# The rocket on PATH is the installed one, and it runs.
rocket_bin=$(command -v rocket)
case "$rocket_bin" in
        /usr/bin/rocket|/usr/local/bin/rocket) ;;
        *) echo "unexpected rocket at $rocket_bin"; exit 1 ;;
esac
v=$(rocket version)
assert_in "rocket " "$v"
assert_in "Default stage1: " "$v"

# Its man page is installed too.
# Its man page is installed next to it (the host's /etc is empty, so no man-db configuration to ask).
page=$(dirname "$(dirname "$rocket_bin")")/share/man/man1/rocket.1
grep -F '.TH "ROCKET" "1"' "$page" >/dev/null

# The cgroup layout is the one this run asked for.
if [ "$ROCKET_TEST_LAYOUT" = unified ]; then
        assert_eq "$(stat -fc %T /sys/fs/cgroup)" cgroup2fs
else
        assert_eq "$(stat -fc %T /sys/fs/cgroup)" tmpfs
fi

# systemd-sysctl picks up rocket's inotify limit (applied at boot; this host's /proc/sys is read-only).
assert_in "fs.inotify.max_user_instances = 8192" "$(/lib/systemd/systemd-sysctl --cat-config --no-pager | grep -A8 50-rocket.conf)"

# rocket completion: the installed scripts, as rkt printed them.
# (Output read whole: grep -q would close the pipe early and fail the writer under pipefail.)
assert_in _rocket "$(bash -c 'source <(rocket completion bash) && complete -p rocket')"
out=$(rocket completion zsh)
assert_eq "#compdef rocket" "$(head -n1 <<<"$out")"
assert_fails_with 2 "unknown shell" rocket completion fish
