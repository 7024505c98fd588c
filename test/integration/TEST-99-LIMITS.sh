#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Limits enforced by the kernel: an app over the pod's memory limit is OOM-killed, a pod cannot fork past
# its tasks limit. On the hybrid layout the test host's v1 controllers are read-only as nspawn mounts them
# (a test quirk, see stage1-notes): this makes them writable to the host's systemd and re-executes it,
# after which the host's systemd no longer tracks new scopes reliably; so this test runs last.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
attack_test_setup

if [ -d /sys/fs/cgroup/memory ]; then
        mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
        for c in memory cpu,cpuacct cpu cpuacct pids; do
                [ -d "/sys/fs/cgroup/$c" ] && mount -o remount,bind,rw "/sys/fs/cgroup/$c" 2>/dev/null || true
        done
        systemctl daemon-reexec
        wait_until "[[ \"\$(systemctl is-system-running 2>/dev/null)\" =~ ^(running|degraded)$ ]]"
        rc=0
        rocket run --name=oom --memory=64M --exec /bin/dd attack:test -- if=/dev/zero of=/dev/null bs=200M count=1 \
                >/dev/null 2>&1 || rc=$?
        assert_eq "$rc" 137                                     # SIGKILL from the OOM killer
        assert_in "app-attack=137 (killed SIGKILL)" "$(rocket status oom)"
        assert_eq "$(rocket status oom | grep '^limit-memory=')" "limit-memory=67108864"    # in force here
else
        echo "# no memory controller in this layout: the OOM kill is not testable here"
fi

# The tasks limit, wherever a pids controller enforces it: the pod gets 40, not the 200 it forks.
rocket run --name=tasks --pids-limit=40 --exec /bin/sleep attack:test -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show tasks >/dev/null 2>&1"
assert_eq "$(systemctl show machine-tasks.scope -p TasksMax --value)" 40
if grep -qw pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null || [ -d /sys/fs/cgroup/pids ]; then
        pids_max=
        for f in /sys/fs/cgroup/machine.slice/machine-tasks.scope/pids.max \
                 /sys/fs/cgroup/pids/machine.slice/machine-tasks.scope/pids.max; do
                [ -r "$f" ] && pids_max=$(cat "$f")
        done
        assert_eq "$pids_max" 40
        out=$(rocket enter tasks /usr/local/bin/attack fork 200)
        assert_in "then EAGAIN" "$out"
        n=$(sed -n 's/^forked \([0-9]*\).*/\1/p' <<<"$out")
        [ "$n" -lt 40 ]
else
        echo "# no pids controller in this layout: the tasks limit is set on the unit, not testable here"
fi
rocket stop tasks >/dev/null
wait
rocket gc --grace-period=0 >/dev/null
rm -rf "$fx"
