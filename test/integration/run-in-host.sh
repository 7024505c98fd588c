#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boots a throwaway systemd host that shares this machine's /usr, installs the build into it with
# 'meson install' (as an overlay on /usr, so no file of the build tree is used inside), runs every
# TEST-*.sh of this directory inside it, and always powers the host off again.
#
# Usage: run-in-host.sh BUILD_DIR [TEST-GLOB]
# Environment:
#   ROCKET_TEST_CGROUP=hybrid|unified|both   cgroup layouts to boot the host in (default: both)
#   ROCKET_TEST_REQUIRE=1                    a missing prerequisite fails instead of skipping
#   ROCKET_TEST_KEEP_LOGS=DIR                copy every test's log and the host's journal there
#   ROCKET_TEST_SHOW_OUTPUT=1                print each test's output as it is (for the demo)
#
# Output is TAP. Exit 0 when every test passed.
set -uo pipefail

build=${1:?usage: run-in-host.sh BUILD_DIR [TEST-GLOB]}
glob=${2:-TEST-*.sh}
here=$(cd "$(dirname "$0")" && pwd)
testdir=$(cd "$here/.." && pwd)
build=$(cd "$build" && pwd)

skip() {
        if [ "${ROCKET_TEST_REQUIRE:-0}" = 1 ]; then
                echo "Bail out! $*"
                exit 1
        fi
        echo "1..0 # SKIP $*"
        exit 0
}

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v systemd-nspawn >/dev/null || skip "needs systemd-nspawn (package systemd-container)"
[ -x /lib/systemd/systemd ] || skip "needs systemd"

case "${ROCKET_TEST_CGROUP:-both}" in
        hybrid) layouts=(hybrid) ;;
        unified) layouts=(unified) ;;
        both) layouts=(hybrid unified) ;;
        *) echo "Bail out! ROCKET_TEST_CGROUP must be hybrid, unified or both"; exit 1 ;;
esac

mapfile -t tests < <(cd "$here" && ls $glob 2>/dev/null | sort)
[ ${#tests[@]} -gt 0 ] || { echo "Bail out! no test matches '$glob'"; exit 1; }

work=$(mktemp -d /var/tmp/rocket-it.XXXXXX)
nspawn_pid=
leader=

diag() {
        sed 's/^/# /'
}

# Never leave the host, its mounts or our files behind: poweroff, then TERM, then KILL, only our own PID.
teardown_host() {
        [ -n "$nspawn_pid" ] || return 0
        if kill -0 "$nspawn_pid" 2>/dev/null; then
                if [ -n "$leader" ] && kill -0 "$leader" 2>/dev/null; then
                        timeout 10 nsenter -t "$leader" -a systemctl poweroff --no-block >/dev/null 2>&1
                fi
                for _ in $(seq 100); do
                        kill -0 "$nspawn_pid" 2>/dev/null || break
                        sleep 0.2
                done
                kill -TERM "$nspawn_pid" 2>/dev/null
                for _ in $(seq 50); do
                        kill -0 "$nspawn_pid" 2>/dev/null || break
                        sleep 0.2
                done
                kill -KILL "$nspawn_pid" 2>/dev/null
        fi
        wait "$nspawn_pid" 2>/dev/null
        nspawn_pid=
        leader=
}

# Every pod's systemd, journald and rocket watch files with inotify; the default of 128 instances per user
# (machine-wide for root) runs out after some 30 pods. Raised for the run, restored after.
old_inotify=$(cat /proc/sys/fs/inotify/max_user_instances)
[ "$old_inotify" -ge 1024 ] || echo 1024 >/proc/sys/fs/inotify/max_user_instances

cleanup() {
        [ "$old_inotify" -ge 1024 ] || echo "$old_inotify" >/proc/sys/fs/inotify/max_user_instances
        teardown_host
        if findmnt -rn -o TARGET | grep -F "$work" >/dev/null; then
                echo "# leftover mounts under $work:"
                findmnt -rn -o TARGET | grep -F "$work" | diag
                findmnt -rn -o TARGET | grep -F "$work" | sort -r | xargs -r -n1 umount -l
        fi
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Install exactly what 'meson install' installs; the prefix must be under /usr, which the host shares.
prefix=$(meson introspect --buildoptions "$build" | python3 -c \
        'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
case "$prefix" in
        /usr|/usr/*) ;;
        *) echo "Bail out! the build's prefix '$prefix' is not under /usr"; exit 1 ;;
esac
if ! DESTDIR="$work/root" meson install -C "$build" --no-rebuild --quiet >"$work/install.log" 2>&1; then
        echo "Bail out! meson install failed"
        diag <"$work/install.log"
        exit 1
fi

# A fixed machine-id: not a first boot, so nothing gets preset-enabled and boot stays short.
mkdir -p "$work/etc"
echo 3f0d8a4c4c4f4e8e9a3d1c2b7e6f5a40 >"$work/etc/machine-id"

boot_host() {
        local layout=$1 state=

        : >"$work/boot.log"
        local env=()
        [ "$layout" = unified ] && env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
        [ "$layout" = hybrid ] && env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0)
        # A network namespace of its own (only lo): no test depends on the machine's ports or touches its
        # interfaces and firewall. Nothing waits for a network that will not come. /etc/alternatives: the
        # iptables the CNI plugins run is a link through it; /etc/ssl: the system's CAs, as any host has.
        env "${env[@]}" systemd-nspawn -D / --volatile=yes --register=no --keep-unit -M rocket-it \
                --console=read-only --private-network \
                --overlay-ro="/usr:$work/root/usr:/usr" \
                --bind-ro="$work/etc/machine-id:/etc/machine-id" \
                --bind-ro=/etc/alternatives --bind-ro=/etc/ssl \
                --bind-ro="$testdir:/run/rocket-test" \
                $([ -d /var/cache/rocket-test ] && echo --bind-ro=/var/cache/rocket-test) \
                -b systemd.firstboot=off systemd.mask=console-getty.service \
                systemd.mask=getty.target systemd.mask=systemd-networkd-wait-online.service >"$work/boot.log" 2>&1 </dev/null &
        nspawn_pid=$!

        for _ in $(seq 300); do
                if [ -z "$leader" ]; then
                        local c
                        c=$(cat "/proc/$nspawn_pid/task/$nspawn_pid/children" 2>/dev/null | awk '{print $1}')
                        [ -n "$c" ] && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && leader=$c
                fi
                if [ -n "$leader" ]; then
                        state=$(timeout 5 nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null)
                        case "$state" in
                                running|degraded) return 0 ;;
                        esac
                fi
                kill -0 "$nspawn_pid" 2>/dev/null || break
                sleep 0.2
        done
        echo "# the $layout host did not boot (state: '${state:-none}'); boot log:"
        diag <"$work/boot.log"
        if [ -n "$leader" ]; then
                timeout 5 nsenter -t "$leader" -a systemctl --failed --no-pager 2>&1 | diag
        fi
        return 1
}

n=0
failed=0
total=$(( ${#tests[@]} * ${#layouts[@]} ))
echo "1..$total"
for layout in "${layouts[@]}"; do
        if ! boot_host "$layout"; then
                teardown_host
                for t in "${tests[@]}"; do
                        n=$((n + 1)); failed=$((failed + 1))
                        echo "not ok $n - $layout/$t # host did not boot"
                done
                continue
        fi
        for t in "${tests[@]}"; do
                n=$((n + 1))
                log="$work/$layout-$t.log"
                if timeout 600 nsenter -t "$leader" -a env -i \
                        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                        HOME=/root LANG=C.UTF-8 ROCKET_TEST_LAYOUT="$layout" \
                        ROCKET_TEST_DIR=/run/rocket-test \
                        bash "/run/rocket-test/integration/$t" >"$log" 2>&1 </dev/null; then
                        [ "${ROCKET_TEST_SHOW_OUTPUT:-0}" = 1 ] && cat "$log"
                        echo "ok $n - $layout/$t"
                else
                        failed=$((failed + 1))
                        echo "not ok $n - $layout/$t"
                        tail -n 60 "$log" | diag
                        timeout 10 nsenter -t "$leader" -a journalctl -b --no-pager -n 40 2>&1 | diag
                fi
                if [ -n "${ROCKET_TEST_KEEP_LOGS:-}" ]; then
                        mkdir -p "$ROCKET_TEST_KEEP_LOGS"
                        cp "$log" "$ROCKET_TEST_KEEP_LOGS/"
                fi
        done
        if [ -n "${ROCKET_TEST_KEEP_LOGS:-}" ]; then
                timeout 10 nsenter -t "$leader" -a journalctl -b --no-pager \
                        >"$ROCKET_TEST_KEEP_LOGS/journal-$layout.txt" 2>&1
        fi
        teardown_host
done

[ "$failed" -eq 0 ]
