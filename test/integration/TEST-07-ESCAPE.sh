#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A hostile pod against the host, through what an administrator does to it: an app plants its own /bin/sh
# and waits for 'rocket enter' or 'machinectl shell'; a pod edits the manifest that host-side entrypoints read. The planted
# program must get exactly the app's confinement (default stage1, --private-users, fly), find no way out of
# the app, and nothing the pod wrote may make rocket run anything else on the host. Also the defaults that
# an attack catalogue got through: raw sockets, io_uring, personality(), new user namespaces, the pod's
# tasks limit, fly's /dev and terminal.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
trap 'rc=$?; if [ $rc -ne 0 ]; then rocket list; for j in /var/lib/rocket/pods/*/*/journal; do echo "== $j"; journalctl -D "$j" --no-pager | tail -n 30; done; fi' EXIT
attack_test_setup

# The app replaces its /bin/sh with its own program and waits for an administrator.
plant='rm /bin/sh && cp /usr/local/bin/attack /bin/sh && touch /tmp/planted && exec sleep 1000'
hostile() {     # hostile NAME [RUN OPTIONS...]: a running pod whose /bin/sh is the planted program
        local name=$1
        shift
        rocket run --name="$name" "$@" attack:test --exec /bin/busybox -- sh -c "$plant" >"$fx/$name.log" 2>&1 &
        wait_until "rocket enter $name /bin/busybox test -e /tmp/planted 2>/dev/null" 30
}

check_planted() {       # check_planted OUTPUT CAPBND: what the planted /bin/sh saw
        local out=$1 bnd=$2
        assert_in "CapBnd:	$bnd" "$out"                # the app's bounding set ...
        assert_in "CapEff:	$bnd" "$out"                # ... and, as root, that as its effective set
        assert_in "Seccomp:	2" "$out"
        assert_in "NoNewPrivs:	1" "$out"
        assert_in "fds: none" "$out"                    # no fd of rocket's (the pod directory was fd 3)
        assert_in "chroot: EPERM" "$out"                # no CAP_SYS_CHROOT: no way back into the stage1's tree
        assert_in "stage1-root: EACCES" "$out"          # the stage1's root through the pod's PID 1: not ours to see
        assert_in "remount-pod: EPERM" "$out"
        assert_in "plant-host: EACCES" "$out"
        assert_in "timer_list: read 0" "$out"           # the app's masked paths
}

# --- stage1-systemd, as run by default ---------------------------------------------------------------
hostile evil
uuid=$(rocket status --format=json evil | jq -r .uuid)
out=$(rocket enter evil)
check_planted "$out" 00000000a80005fb
assert_in "/system.slice/attack.service" "$out"         # the app's cgroup, with its limits and device policy
[ ! -e "/var/lib/rocket/pods/run/$uuid/planted" ]
# machinectl shell runs the planted /bin/sh too, in the same confinement; the app cannot see the pod's bus.
out=$(machinectl shell evil /bin/sh </dev/null | tr -d '\r')
check_planted "$out" 00000000a80005fb
assert_in "/system.slice/attack.service" "$out"
assert_eq "$(rocket enter evil /bin/busybox sh -c 'test -e /run/dbus/system_bus_socket && echo bus || echo no-bus')" no-bus
# --user: the app's confinement with another user of the image, and nothing effective.
out=$(rocket enter --user=app evil /usr/local/bin/attack status)
assert_in "Uid:	1000	1000	1000	1000" "$out"
assert_in "CapEff:	0000000000000000" "$out"
assert_in "Seccomp:	2" "$out"
assert_fails 1 rocket enter --user=nobody-here evil /bin/true
# --group alone: the app's user (app, 1000) with that group, not root.
rocket run --name=grp --user=app attack:test --exec /bin/busybox -- sleep 1000 >"$fx/grp.log" 2>&1 &
wait_until "rocket enter grp /bin/busybox true 2>/dev/null" 30
assert_in "uid=1000(app) gid=0(root)" "$(rocket enter --group=0 grp /bin/busybox id)"
assert_in "uid=1000(app) gid=1000(app)" "$(rocket enter grp /bin/busybox id)"
rocket stop grp >/dev/null

# The pod's manifest names its stage1, and a pod can reach its manifest: point it at a "stage1" the pod
# could have written, and the administrator's next stop must run nothing of it.
pod=/var/lib/rocket/pods/run/$uuid
mkdir -p "$pod/apps/attack/upper/evil-stage1"
printf '#!/bin/sh\ntouch /run/pwned\n' >"$pod/apps/attack/upper/evil-stage1/stop"
chmod 0755 "$pod/apps/attack/upper/evil-stage1/stop"
cp "$pod/pod" "$fx/manifest.good"
jq --arg s "$pod/apps/attack/upper/evil-stage1" '.stage1 = $s' "$fx/manifest.good" >"$pod/pod"
assert_fails_with 254 "Refusing to run the stop entrypoint" rocket stop evil
# Nor a directory anybody may write to, outside the pods.
mkdir -p /tmp/evil-stage1
cp "$pod/apps/attack/upper/evil-stage1/stop" /tmp/evil-stage1/stop
jq '.stage1 = "/tmp/evil-stage1"' "$fx/manifest.good" >"$pod/pod"
assert_fails 254 rocket stop evil
assert_fails 254 rocket enter evil /bin/true
[ ! -e /run/pwned ]
cp "$fx/manifest.good" "$pod/pod"
rocket stop evil >/dev/null
wait
[ ! -e /run/pwned ]

# --- with --private-users -----------------------------------------------------------------------------
hostile evilu --private-users
out=$(rocket enter evilu)
check_planted "$out" 00000000a80005fb
rocket stop evilu >/dev/null
wait

# --- fly: reduced isolation, not none -------------------------------------------------------------------
rocket run --name=evilf --stage1-name=fly attack:test --exec /bin/busybox -- sh -c "$plant" >"$fx/evilf.log" 2>&1 &
wait_until "rocket status evilf 2>/dev/null | grep -c state=running >/dev/null"
wait_until "rocket enter evilf /bin/busybox test -e /tmp/planted 2>/dev/null" 30
out=$(rocket enter evilf)
check_planted "${out/stage1-root: ENOENT/stage1-root: EACCES}" 00000000a00005fb      # no CAP_MKNOD without a device policy
rocket stop evilf >/dev/null
wait
# Its own /dev: the standard pseudo devices only, no host disks, a /dev/shm of its own.
echo host-secret >/dev/shm/rocket-test-secret
out=$(rocket run --stage1-name=fly --exec /bin/sh attack:test -- -c \
        'ls /dev; cat /dev/shm/rocket-test-secret 2>&1; true')
assert_in "null" "$out"
assert_in "No such file or directory" "$out"            # the host's /dev/shm is not there
[[ "$out" != *host-secret* ]]
[[ "$out" != *loop0* ]]
assert_in "EPERM" "$(rocket run --stage1-name=fly --exec /usr/local/bin/attack attack:test -- mknod-dev)"
assert_in "EPERM" "$(rocket run --stage1-name=fly --exec /usr/local/bin/attack attack:test -- clone-user)"
assert_in "ok" "$(rocket run --stage1-name=fly --caps-retain=MKNOD --exec /usr/local/bin/attack attack:test -- mknod-dev)"
rm -f /dev/shm/rocket-test-secret
# Never the caller's terminal: on a terminal, the app gets a pseudo-terminal of the pod's own devpts
# (another instance than the caller's), which it knows by name.
out=$(script -qec "rocket run --stage1-name=fly --exec /bin/sh attack:test -- -c 'echo app=\$(tty) \$(stat -L -c %d /proc/self/fd/0)'; \
        echo caller=\$(stat -L -c %d /proc/self/fd/0)" /dev/null | tr -d '\r' | sed 's/\^@//g')    # script's EOF, echoed
app_tty=$(sed -n 's/^app=//p' <<<"$out")
caller=$(sed -n 's/^caller=//p' <<<"$out")
[[ "$app_tty" == "/dev/pts/"[0-9]*" "[0-9]* ]]
[ -n "$caller" ]
[ "${app_tty#* }" != "$caller" ]
# Nor without one to relay (run from a terminal, its output to a pipe): the app's session is its own, so
# /dev/tty is no way back to the caller's terminal.
out=$(script -qec "rocket run --stage1-name=fly --exec /bin/sh attack:test -- -c \
        'if true </dev/tty 2>/dev/null; then echo ctty=caller; else echo ctty=none; fi' </dev/null 2>&1 | cat" /dev/null | tr -d '\r')
assert_in "ctty=none" "$out"

# --- defaults: raw sockets, io_uring, personality(), user namespaces; and their overrides ---------------
all="packet-socket raw-socket io-uring personality-exec personality-linux32 personality-query clone-user unshare-user"
for variant in "" "--private-users" "--stage1-name=fly"; do
        out=$(attacks $variant -- $all)
        assert_in "packet-socket: EPERM" "$out"         # no CAP_NET_RAW: no packet capture ...
        assert_in "raw-socket: EPERM" "$out"            # ... and no raw IP
        assert_in "io-uring: EPERM" "$out"              # seccomp
        assert_in "personality-exec: EPERM" "$out"      # seccomp, by argument
        assert_in "personality-linux32: ok" "$out"      # what Docker's profile allows still works
        assert_in "personality-query: ok" "$out"
        assert_in "clone-user: EPERM" "$out"            # no new user namespaces, whichever call asks
        assert_in "unshare-user: EPERM" "$out"
done
out=$(attacks --caps-retain=NET_RAW,SETUID,SETGID --seccomp=mode=remove,reboot -- packet-socket raw-socket io-uring personality-exec)
assert_in "packet-socket: ok" "$out"
assert_in "raw-socket: ok" "$out"
assert_in "io-uring: ok" "$out"
out=$(attacks --insecure-options=seccomp -- personality-exec)
assert_in "personality-exec: ok" "$out"

# --- the pod's tasks limit ------------------------------------------------------------------------------
rocket run --name=tasks --exec /bin/sleep attack:test -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show tasks >/dev/null 2>&1"
assert_eq "$(systemctl show machine-tasks.scope -p TasksMax --value)" 4096
rocket stop tasks >/dev/null
wait
rocket run --name=tasks2 --pids-limit=40 --exec /bin/sleep attack:test -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show tasks2 >/dev/null 2>&1"
assert_eq "$(systemctl show machine-tasks2.scope -p TasksMax --value)" 40
# (Enforcement is asserted in TEST-99, where the pids controller is writable in both layouts.)
rocket stop tasks2 >/dev/null
wait
assert_fails 2 rocket run --pids-limit=0 attack:test
assert_fails 2 rocket run --pids-limit=lots attack:test
rocket gc --grace-period=0 >/dev/null
rm -rf "$fx" /tmp/evil-stage1
