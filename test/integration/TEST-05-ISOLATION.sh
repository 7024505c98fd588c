#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Isolation by default, attacked from inside a pod: each attempt fails, and the test asserts how (the
# enforcing mechanism is noted per line); the matching override lets it through; what an ordinary app
# needs still works; memory limits on the pod are enforced where the controller exists.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
attack_test_setup

out=$(attacks -- mount mknod-block write-hostname finit-module reboot keyctl unshare-user ptrace settime raise-cap chroot)
assert_in "mount: EPERM" "$out"                  # seccomp (mount family) and no CAP_SYS_ADMIN
assert_in "mknod-block: EPERM" "$out"            # the app unit's device policy (CAP_MKNOD alone is not enough)
assert_in "write-hostname: EROFS" "$out"         # /proc/sys is mounted read-only
assert_in "finit-module: EPERM" "$out"           # seccomp (@module)
assert_in "reboot: EPERM" "$out"                 # seccomp (@reboot)
assert_in "keyctl: EPERM" "$out"                 # seccomp (keyctl)
assert_in "unshare-user: EPERM" "$out"           # the executor's restrictions filter (seccomp-util.c)
assert_in "ptrace: EPERM" "$out"                 # seccomp (ptrace), no CAP_SYS_PTRACE
assert_in "settime: EPERM" "$out"                # seccomp (@clock), no CAP_SYS_TIME
assert_in "raise-cap: EPERM" "$out"              # CAP_SYS_ADMIN is outside the bounding set
assert_in "chroot: EPERM" "$out"                 # no CAP_SYS_CHROOT: the app cannot undo its chroot(2)

# Masked paths read as empty, inaccessible nodes; the same pod without the mask reads them.
out=$(rocket run --exec /bin/sh attack:test -- -c 'cat /proc/timer_list /proc/keys | wc -c; ls /sys/firmware 2>&1 | wc -l')
assert_eq "$out" "$(printf '0\n0')"                # empty files, an empty directory
out=$(rocket run --insecure-options=paths --exec /bin/sh attack:test -- -c 'cat /proc/timer_list | wc -c')
[ "$out" -gt 0 ]

# The status fields show the confinement: rkt's default capabilities but CAP_SYS_CHROOT, seccomp filter mode, no_new_privs.
out=$(rocket run --exec /bin/grep attack:test -- -E '^(CapBnd|NoNewPrivs|Seccomp):' /proc/self/status)
assert_in "CapBnd:	00000000a80005fb" "$out"
assert_in "NoNewPrivs:	1" "$out"
assert_in "Seccomp:	2" "$out"

# The matching overrides let the same attacks through.
out=$(attacks --caps-retain=SYS_ADMIN,SYS_TIME,SYS_CHROOT,SETUID,SETGID --seccomp=mode=remove,reboot,finit_module -- \
        mount keyctl settime)
assert_in "mount: ok" "$out"
assert_in "keyctl: ok" "$out"
assert_in "settime: ok" "$out"
out=$(attacks --insecure-options=paths -- mknod-block)
assert_in "mknod-block: ok" "$out"
out=$(rocket run --caps-remove=NET_RAW,MKNOD --no-new-privs=false --exec /bin/grep attack:test -- -E '^(CapBnd|NoNewPrivs):' /proc/self/status)
assert_in "CapBnd:	00000000a00005fb" "$out"        # the default minus CAP_NET_RAW and CAP_MKNOD
assert_in "NoNewPrivs:	0" "$out"
# Control characters in what reaches the app's unit stay data (a \r would otherwise end the line there).
out=$(rocket run --environment="X=a$(printf '\r')ExecStartPre=/bin/false" --exec /bin/sh attack:test -- -c 'printf %s "$X" | wc -c')
assert_eq "$out" 25
# Unknown names are refused when parsed, naming them.
assert_fails_with 2 "CAP_FROBNICATE" rocket run --caps-retain=CAP_FROBNICATE attack:test
assert_fails_with 2 "frobnicate" rocket run --seccomp=mode=remove,frobnicate attack:test

# What an ordinary app needs still works: chown, port 80 as root, su to a user of the image.
out=$(rocket run --exec /bin/sh attack:test -- -c 'touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u /tmp/f;
        nc -l -p 80 & p=$!; sleep 0.3; kill $p && echo bound-80; su app -c id')
assert_in "1000" "$out"
assert_in "bound-80" "$out"
assert_in "uid=1000(app)" "$out"

# --- memory: the pod's limit on its scope; an app over it is OOM-killed where the controller exists ---
rocket run --name=capped --memory=64M --exec /bin/sleep attack:test -- 1000 >"$fx/capped.log" 2>&1 &
wait_until "machinectl show capped >/dev/null 2>&1"
assert_eq "$(systemctl show machine-capped.scope -p MemoryMax --value)" 67108864
# Whether the kernel applies it: this test host's memory controller is read-only (hybrid) or absent
# (unified), so it does not, and rocket says so (as for an app's limit) and rocket status shows it.
wait_until '[[ "$(rocket status capped)" == *limit-memory=* ]]'
if [ -z "$(cat /sys/fs/cgroup/memory/machine.slice/machine-capped.scope/memory.limit_in_bytes \
        /sys/fs/cgroup/machine.slice/machine-capped.scope/memory.max 2>/dev/null | grep -vx -e max -e 9223372036854771712)" ]; then
        assert_in "limit-memory=67108864 (not enforced)" "$(rocket status capped)"
        wait_until "grep -q \"The pod's memory limit is recorded but not enforced here\" '$fx/capped.log'"
        assert_eq "$(rocket status --format=json capped | jq -c .limits.memory)" '{"value":67108864,"enforced":false}'
else
        assert_eq "$(rocket status capped | grep '^limit-memory=')" "limit-memory=67108864"
fi
assert_in "limit-tasks=4096" "$(rocket status capped)"
rocket stop capped >/dev/null
wait
# The limits file sits in the pod's directory, within the pod's reach: a FIFO there (or a symbolic link) is
# not read, so rocket status and list neither hang nor follow it.
uuid=$(rocket status --format=json capped | jq -r .uuid)
pdir=$(echo /var/lib/rocket/pods/*/"$uuid")
rm "$pdir/limits" && mkfifo "$pdir/limits"
out=$(timeout 20 rocket status capped)
[[ "$out" != *limit-memory=* ]]
timeout 20 rocket list --format=json >/dev/null
# (The OOM kill itself is asserted in TEST-99, which re-executes the host's systemd.)
# Per-app limits are written to the app's unit; where the pod has no controller, rocket says so once.
# (The stage1's writable layer is a tmpfs of the pod's: read the unit while the pod runs.)
rocket run --name=applimit --exec /bin/sleep attack:test --memory=32M --cpu=500m -- 1000 >"$fx/applimit.log" 2>&1 &
wait_until "rocket enter applimit /bin/true 2>/dev/null" 30
leader=$(rocket status --format=json applimit | jq -r .pid)
unit=/proc/$leader/root/etc/systemd/system/attack.service
grep -qx 'MemoryMax=33554432' "$unit"
grep -qx 'CPUQuota=50%' "$unit"
rocket stop applimit >/dev/null
wait
out=$(cat "$fx/applimit.log")
# Nothing of the stage1's writable layer stays in the pod directory.
uuid=$(rocket status --format=json applimit | jq -r .uuid)
assert_eq "$(find "/var/lib/rocket/pods/run/$uuid/stage1/upper" -mindepth 1 | wc -l)" 0
if ! grep -qw memory "/sys/fs/cgroup/unified/machine.slice/cgroup.controllers" "/sys/fs/cgroup/machine.slice/cgroup.controllers" 2>/dev/null; then
        assert_in "controller is not available to the pod" "$out"
fi

# --- the fly stage1: chroot only, its own caps and seccomp; listed, stoppable, no machine ------------
out=$(rocket run --name=flying --stage1-name=fly --exec /bin/sh attack:test -- \
        -c 'grep -E "^(CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; /usr/local/bin/attack mount; /usr/local/bin/attack settime; exit 4' \
        2>&1) || rc=$?
assert_eq "${rc:-0}" 4
assert_in "CapBnd:	00000000a00005fb" "$out"
assert_in "Seccomp:	2" "$out"
assert_in "NoNewPrivs:	1" "$out"
assert_eq "$(grep -c EPERM <<<"$out")" 2
assert_in "app-attack=4" "$(rocket status flying)"
assert_not machinectl show flying
# What fly cannot honour it refuses in one line instead of ignoring it: volumes, limits, several apps.
assert_fails_with 254 "cannot honour --memory" rocket run --stage1-name=fly --memory=64M --exec /bin/true attack:test
assert_fails 254 rocket run --stage1-name=fly --pids-limit=100 --exec /bin/true attack:test
assert_fails 254 rocket run --stage1-name=fly --exec /bin/true attack:test --cpu=500m
assert_fails 254 rocket run --stage1-name=fly --volume v,kind=empty --exec /bin/true attack:test --mount volume=v,target=/v
assert_fails 254 rocket run --stage1-name=fly --exec /bin/true attack:test --- attack:test --name=two
assert_fails_with 254 "readonly-rootfs" rocket run --stage1-name=fly --readonly-rootfs --exec /bin/true attack:test
# ... before any image is looked up (or fetched): the image here does not even exist.
assert_fails_with 254 "cannot honour --volume/--mount" rocket run --stage1-name=fly --volume v,kind=empty no-such:image
# The image's users and groups, looked up as stage1-systemd does (supplementary groups too).
out=$(rocket run --stage1-name=fly --user=app --exec /bin/sh attack:test -- -c 'echo "$(id -u):$(id -g):$(id -G):$HOME"')
assert_eq "$out" "1000:1000:1000 50:/home/app"
out=$(rocket run --stage1-name=fly --user=app --group=wheel --exec /bin/true attack:test 2>&1) && false
assert_in "group 'wheel' is not in the image's /etc/group" "$out"
rocket run --name=fly2 --stage1-name=fly --exec /bin/sleep attack:test -- 1000 >/dev/null 2>&1 &
wait_until "rocket status fly2 2>/dev/null | grep -c state=running >/dev/null"
assert_in "fly2" "$(rocket list --no-legend | grep running)"
assert_in "/bin/sleep 1000" "$(rocket enter fly2 /bin/ps)"
rocket stop fly2 >/dev/null
wait
assert_in "app-attack=143 (killed SIGTERM)" "$(rocket status fly2)"
rocket gc --grace-period=0 >/dev/null
rm -rf "$fx"

# --- --readonly-rootfs: the rootfs refuses writes (EROFS), its volumes, /proc and /dev stay as they are -----
out=$(rocket run --volume v,kind=empty --readonly-rootfs --exec /bin/sh attack:test --mount volume=v,target=/v -- -c \
        'touch /x 2>&1; echo vol >/v/f && cat /v/f; echo null >/dev/null && echo dev-ok; cat /etc/hostname >/dev/null && echo etc-ok')
assert_in "Read-only file system" "$out"
assert_in vol "$out"
assert_in dev-ok "$out"
assert_in etc-ok "$out"
# Off again for one app of two: the option is per app.
out=$(rocket run --readonly-rootfs --exec /bin/sh attack:test --name=ro -- -c 'touch /x 2>&1 || true' --- \
        attack:test --name=rw --readonly-rootfs=false --exec /bin/sh -- -c 'touch /x && echo rw-ok')
assert_in "Read-only file system" "$out"
assert_in rw-ok "$out"

# --- --supplementary-gids and --oom-score-adj: the groups added to the image's, the score in /proc, both
# stage1s alike, and for a command entered into the app ----------------------------------------------------
for s1 in systemd fly; do
        out=$(rocket run --stage1-name=$s1 attack:test --user=app --supplementary-gids=4242,4343 --oom-score-adj=321 \
                --exec /bin/sh -- -c 'echo "$(id -G) $(cat /proc/self/oom_score_adj)"')
        assert_eq "1000 50 4242 4343 321" "$out"
done
rocket run --name=gids attack:test --supplementary-gids=4242 --oom-score-adj=555 --exec /bin/sleep -- 1000 >/dev/null 2>&1 &
wait_until "rocket status --wait-ready=1s gids >/dev/null 2>&1"
out=$(rocket enter gids /bin/sh -c 'echo "$(id -G) $(cat /proc/self/oom_score_adj)"')
assert_in " 4242 " "$out"
assert_eq 555 "${out##* }"
rocket stop gids >/dev/null
wait
assert_fails_with 2 "oom-score-adj" rocket run attack:test --oom-score-adj=2000 --exec /bin/true
assert_fails_with 2 "supplementary-gids" rocket run attack:test --supplementary-gids=wheel --exec /bin/true

# --- --ipc: a namespace of the pod's by default (auto, private), the host's with parent; both stage1s -------
host_ipc=$(readlink /proc/self/ns/ipc)
for s1 in systemd fly; do
        assert_eq "$host_ipc" "$(rocket run --stage1-name=$s1 --ipc=parent attack:test --exec /bin/readlink -- /proc/self/ns/ipc)"
        [ "$(rocket run --stage1-name=$s1 attack:test --exec /bin/readlink -- /proc/self/ns/ipc)" != "$host_ipc" ]
        [ "$(rocket run --stage1-name=$s1 --ipc=private attack:test --exec /bin/readlink -- /proc/self/ns/ipc)" != "$host_ipc" ]
done
assert_fails_with 2 "invalid --ipc" rocket run --ipc=host attack:test --exec /bin/true
