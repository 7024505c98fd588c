#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pods in systemd's eyes: registered with machined (class container, service rocket) in machine-NAME.scope
# or in the unit that runs rocket (systemd-run -p Delegate=yes); machinectl poweroff/terminate; rocket
# enter/stop/list; 20 pods at once; a kill -9 of 'rocket run' leaves a running, manageable pod.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
state() { rocket status "$1" 2>/dev/null | sed -n 's/^state=//p'; }

# --- registered with machined, in its own scope, while it runs -------------------------------------
rocket run --name web --exec /bin/sh "$img" -- -c 'trap "echo web-got-term; exit 3" TERM; echo web-up; while :; do sleep 0.1; done' \
        >"$fx/web.out" 2>&1 &
web_pid=$!
wait_until "machinectl show web >/dev/null 2>&1"
assert_eq "$(machinectl show web -p Class --value)" container
assert_eq "$(machinectl show web -p Service --value)" rocket
assert_eq "$(machinectl show web -p Unit --value)" machine-web.scope
uuid=$(rocket status --format=json web | jq -r .uuid)
assert_eq "$(machinectl show web -p Id --value)" "${uuid//-/}"
assert_eq "$(machinectl show web -p Leader --value)" "$(rocket status --format=json web | jq .pid)"
ms=$(machinectl status web --no-pager)
assert_in "machine-web.scope" "$ms"
assert_in "/usr/lib/systemd/systemd" "$ms"
assert_in "sleep 0.1" "$ms"
assert_eq "$(state web)" running
assert_in "web" "$(rocket list --no-legend)"
# enter: the pod's namespaces and the app's rootfs, and nothing of rocket's open (fd 3 was the pod directory).
assert_eq "$(rocket enter web /bin/ls /proc/self/fd | sort -n | tr '\n' ' ')" "0 1 2 3 "      # 3: ls's own directory
# enter: the pod's namespaces and the app's rootfs.
assert_eq "$(rocket enter web /bin/sh -c 'hostname; cat /proc/1/comm; test -f /bin/busybox && echo app-rootfs')" \
        "$(printf 'web\nsystemd\napp-rootfs')"
# enter: in the app's cgroup (its and the pod's limits apply), and on a terminal a pseudo-terminal of its own, never the
# caller's (a program in the pod could keep that, or push input into it); the exit status comes back.
assert_eq "$(rocket enter web cat /proc/self/cgroup | grep '^0::')" "0::/system.slice/busybox.service"
# The terminal is one of the pod's own devpts (another devpts instance than the caller's), which the
# command knows by name: tty(1) works inside.
out=$(script -qec 'echo "outer=$(stat -L -c %d /proc/self/fd/0)"
        rocket enter web sh -c "echo inner=\$(tty) \$(stat -L -c %d /proc/self/fd/0); exit 3"; echo "rc=$?"' /dev/null |
        tr -d '\r' | sed 's/\^@//g')
outer=$(sed -n 's/^outer=//p' <<<"$out")
inner=$(sed -n 's/.*inner=//p' <<<"$out")
[[ "$inner" == "/dev/pts/"[0-9]*" "[0-9]* && -n "$outer" && "${inner#* }" != "$outer" ]]
assert_in "rc=3" "$out"
# Only stdin a terminal (output to a pipe): the input still reaches the command through its own terminal.
out=$(printf 'hello\n' | script -qec 'rocket enter web sh -c "read x; echo got-\$x; [ -t 0 ] && echo in-tty" | cat' /dev/null |
        tr -d '\r')
assert_in "got-hello" "$out"
assert_in "in-tty" "$out"
# machinectl poweroff: a graceful stop; the app gets SIGTERM and its status is recorded.
machinectl poweroff web
rc=0
wait "$web_pid" || rc=$?
assert_eq "$rc" 3
assert_in "web-up" "$(cat "$fx/web.out")"
assert_in "web-got-term" "$(cat "$fx/web.out")"
assert_eq "$(state web)" exited
assert_in "app-busybox=3" "$(rocket status web)"
assert_not machinectl show web

# --- machinectl terminate kills it; rocket still records the pod as exited --------------------------
rocket run --name victim --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
v_pid=$!
wait_until "machinectl show victim >/dev/null 2>&1"
machinectl terminate victim
wait "$v_pid" || true
wait_until "[ \"\$(state victim)\" = exited ]"
assert_not machinectl show victim

# --- rocket stop; --force ------------------------------------------------------------------------
rocket run --name s1 --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
rocket run --name s2 --exec /bin/sh "$img" -- -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1 &
wait_until "[ \"\$(state s1)\" = running ] && [ \"\$(state s2)\" = running ]"
assert_eq "$(rocket stop s1)" "$(rocket status --format=json s1 | jq -r .uuid)"
assert_eq "$(state s1)" exited
rocket stop --force s2 >/dev/null
assert_eq "$(state s2)" exited
wait

# --- SIGTERM or SIGINT to rocket run stops the pod gracefully; status --wait returns when it has exited -
rocket run --name sig --uuid-file-save="$fx/sig.uuid" --exec /bin/sh "$img" -- \
        -c 'trap "echo sig-got-term; exit 0" TERM; while :; do sleep 0.1; done' >"$fx/sig.out" 2>&1 &
sig_pid=$!
wait_until "[ \"\$(state sig)\" = running ]"
assert_eq "$(cat "$fx/sig.uuid")" "$(rocket status --format=json sig | jq -r .uuid)"
( sleep 0.5; kill -TERM "$sig_pid" ) &
st=$(rocket status --wait=20s sig)
assert_in "state=exited" "$st"
assert_in "app-busybox=0" "$st"
rc=0
wait "$sig_pid" || rc=$?
assert_eq "$rc" 0
assert_in "sig-got-term" "$(cat "$fx/sig.out")"

# --- --uuid-file= on status, cat-manifest, enter, stop and rm, as rkt's unit files name their pods ------
rocket run --name uf --uuid-file-save="$fx/uf.uuid" --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
uf_pid=$!
wait_until "[ \"\$(state uf)\" = running ]"
wait_until "rocket enter --uuid-file=$fx/uf.uuid /bin/true 2>/dev/null"
assert_eq "$(rocket status --uuid-file="$fx/uf.uuid" --format=json | jq -r .name)" uf
assert_eq "$(rocket cat-manifest --uuid-file="$fx/uf.uuid" | jq -r .name)" uf
assert_eq "$(rocket enter --uuid-file="$fx/uf.uuid" /bin/echo entered)" entered
assert_fails_with 2 "give exactly one POD" rocket status --uuid-file="$fx/uf.uuid" uf
echo not-a-uuid >"$fx/bad.uuid"
assert_fails_with 254 "holds no pod UUID" rocket status --uuid-file="$fx/bad.uuid"
assert_fails_with 254 "cannot read UUID file" rocket stop --uuid-file="$fx/missing.uuid"
assert_eq "$(rocket stop --uuid-file="$fx/uf.uuid")" "$(cat "$fx/uf.uuid")"
wait "$uf_pid" || true
rocket rm --uuid-file="$fx/uf.uuid" >/dev/null
assert_not rocket status uf

# --- status --wait-ready: returns once every app has started; a pod that is not started times out -----
rocket run --name rdy --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
rdy_pid=$!
wait_until "rocket status rdy >/dev/null 2>&1"
assert_in "state=running" "$(rocket status --wait-ready=30s rdy)"
rocket enter rdy /bin/true                                      # ready means its apps have started
rocket stop rdy >/dev/null
wait "$rdy_pid" || true
assert_fails_with 254 "is exited: it did not become ready" rocket status --wait-ready=5s rdy
rocket prepare --quiet --name notready --exec /bin/true "$img" >/dev/null
assert_fails_with 254 "is not ready in time" rocket status --wait-ready=1s notready
assert_fails_with 2 "exclude each other" rocket status --wait --wait-ready notready
rocket rm notready >/dev/null

# --- gc: prepared pods expire, exited ones are marked first and removed after the grace period ------
rocket prepare --quiet --name stale --exec /bin/true "$img" >/dev/null
rocket run --name marked --exec /bin/true "$img" >/dev/null 2>&1
rocket gc --mark-only --grace-period=0 --expire-prepared=1h     # rkt's ExecStopPost=: mark, remove nothing
assert_eq "$(state marked)" exited-garbage                      # kept, though its grace period is over
assert_eq "$(state stale)" prepared
rocket gc --grace-period=1h --expire-prepared=1h
assert_eq "$(state stale)" prepared
assert_eq "$(state sig)" exited-garbage
rocket gc --grace-period=1h --expire-prepared=0
assert_not rocket status stale
assert_eq "$(state sig)" exited-garbage
j=$(journalctl -m _MACHINE_ID="$(tr -d - <"$fx/sig.uuid")" -t busybox -o cat --no-pager)
assert_in "sig-got-term" "$j"                                   # the journal link followed the pod

# --- kill -9 of rocket run: the pod lives on and stays manageable -----------------------------------
rocket run --name survivor --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
s_pid=$!
wait_until "[ \"\$(state survivor)\" = running ]"
sleep 0.3
kill -9 "$s_pid"
wait "$s_pid" || true
sleep 0.3
assert_eq "$(state survivor)" running
rocket gc --grace-period=0
assert_eq "$(state survivor)" running
machinectl show survivor >/dev/null
assert_eq "$(rocket enter survivor /bin/echo still-here)" still-here
rocket stop survivor >/dev/null
assert_eq "$(state survivor)" exited
# Its stage1 did not see it end: gc will run the stage1's gc entrypoint for it.
[ ! -e "$ROCKET_DIR/pods/run/$(rocket status --format=json survivor | jq -r .uuid)/clean" ]

# --- 20 pods at once: all run, all are listed and registered, all stop -----------------------------
for i in $(seq 20); do
        rocket run --name "many-$i" --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
done
wait_until "[ \$(rocket list --no-legend | grep -c ' running ') -eq 20 ]" 60
# Each registers with machined once its network is up.
wait_until "[ \$(machinectl list --no-legend --no-pager | grep -c '^many-') -eq 20 ]" 60
rocket stop $(seq -f 'many-%g' 20) >/dev/null
wait
assert_eq "$(rocket list --no-legend | grep -c ' running ' || true)" 0

# --- in the unit that runs rocket (RegisterMachine), when that unit delegates its cgroup -----------
out=$(systemd-run --wait --pipe --quiet -p Delegate=yes rocket run --name ku --exec /bin/echo "$img" -- via-systemd-run)
assert_eq "$out" via-systemd-run
systemd-run --unit=rocket-ku2 -p Delegate=yes rocket run --name ku2 --exec /bin/sleep "$img" -- 1000
wait_until "machinectl show ku2 >/dev/null 2>&1"
assert_eq "$(machinectl show ku2 -p Unit --value)" rocket-ku2.service
wait_until "systemctl status rocket-ku2.service --no-pager | grep -c 'sleep 1000' >/dev/null"
rocket stop ku2 >/dev/null
wait_until "! systemctl is-active -q rocket-ku2.service"
assert_eq "$(systemctl show rocket-ku2.service -p Result --value)" success
assert_not machinectl show ku2

# --- machinectl shell and login, systemctl -M, systemd-run -M: the pod's bus, socket-activated --------
rocket run --name=shelly --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
# Registered and its app started (enter needs the app's cgroup).
wait_until "machinectl show shelly >/dev/null 2>&1 && rocket enter shelly /bin/true 2>/dev/null" 30
# Idle, the pod runs no bus: only its socket, held by the pod's systemd.
[[ "$(machinectl status shelly --no-pager)" != *dbus-daemon* ]]
# machinectl shell: the command runs in the pod's app, with its rootfs, cgroup and confinement.
out=$(machinectl shell shelly /bin/sh -c 'echo "in $(cat /etc/hostname) as $(id -u)"; test -f /bin/busybox && echo app-rootfs
        grep ^CapBnd /proc/self/status; grep ^0:: /proc/self/cgroup' </dev/null | tr -d '\r')
assert_in "in shelly as 0" "$out"
assert_in "app-rootfs" "$out"
assert_in "CapBnd:	00000000a80005fb" "$out"
assert_in "0::/system.slice/busybox.service" "$out"
# ... and the app's own user by default, a login shell (machined's default command).
assert_in "uid=0(root)" "$(machinectl shell shelly /bin/sh -c id </dev/null | tr -d '\r')"
# systemctl -M and systemd-run -M talk to the pod's systemd; /bin/sh there is the app's too.
assert_eq "$(systemctl -M shelly is-active busybox.service)" active
assert_in "busybox.service" "$(systemctl -M shelly list-units --no-legend --no-pager)"
systemd-run -M shelly --wait --quiet /bin/sh -c 'echo from-systemd-run >/tmp/srun'
assert_eq "$(rocket enter shelly cat /tmp/srun)" from-systemd-run
# machinectl login: a login shell on a terminal of the pod.
out=$( (sleep 2; printf 'echo LOGIN-$((40+2))\n'; sleep 1; printf 'exit\n'; sleep 1) |
        timeout 20 script -qec 'machinectl login shelly' /dev/null 2>&1 | tr -d '\r' || true)
assert_in "LOGIN-42" "$out"
# The bus runs now that it was used.
assert_in "dbus-daemon" "$(machinectl status shelly --no-pager)"
rocket stop shelly >/dev/null
wait

# --- a clean life leaves no error in the journal: run, stop (a graceful poweroff), machinectl poweroff ---
rocket run --name=clean --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show clean >/dev/null 2>&1"
mid=$(machinectl show clean -p Id --value)
rocket stop clean >/dev/null
wait
rocket run --name=clean2 --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show clean2 >/dev/null 2>&1"
mid2=$(machinectl show clean2 -p Id --value)
machinectl poweroff clean2
wait
for m in "$mid" "$mid2"; do
        assert_eq "$(journalctl -m -p err _MACHINE_ID="$m" -o cat --no-pager)" ""
        assert_eq "$(journalctl -m -p err SYSLOG_IDENTIFIER=rocket POD_NAME=clean -o cat --no-pager)" ""
done
# The stage1 ended them cleanly (nothing left outside the pod directory but the journal link), so gc
# needs no entrypoint of the stage1's for them: "clean" says so (the survivor above has none).
for p in clean clean2; do
        [ -f "$ROCKET_DIR/pods/run/$(rocket status --format=json "$p" | jq -r .uuid)/clean" ]
done

# --- everything gone after gc ----------------------------------------------------------------------
rocket gc --grace-period=0
assert_eq "$(rocket list --no-legend)" ""
assert_eq "$(find /var/log/journal -maxdepth 1 -type l | wc -l)" 0     # the journal links, also of clean pods
assert_eq "$(findmnt -rn -o TARGET | grep -c "^$ROCKET_DIR/pods" || true)" 0
machinectl list --no-pager | grep -c "No machines." >/dev/null
rm -rf "$fx"
