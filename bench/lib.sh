# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for the benchmark, sourced by bench/run (on this machine) and by bench/in-host.sh (inside the
# throwaway systemd host):
#   timing and statistics  bench_interleave, bench_stats, fmt_ms, fmt_ratio
#   the results table      row, render_table
#   the throwaway host      host_boot, host_run, host_teardown (bench/run only)

# In the throwaway host /etc starts empty, so Debian's alternatives (/usr/bin/awk -> /etc/alternatives/awk)
# do not resolve there.
if ! command -v awk >/dev/null 2>&1; then
        awk() {
                if command -v gawk >/dev/null 2>&1; then gawk "$@"; else mawk "$@"; fi
        }
fi

# ---------------------------------------------------------------------------------------------------
# Timing. Times are kept in microseconds, one number per line, in $BENCH_DATA/LABEL.us.

# Microseconds since the epoch, without forking (bash >= 5).
now_us() {
        local t=${EPOCHREALTIME/./}
        echo "${t#0}"
}

# bench_interleave RUNS LABEL CMD [LABEL CMD]...
# Runs each command RUNS times, interleaved (A B C A B C ..., each round starting one further along, so
# no command always runs right after the same other one), after $BENCH_WARMUP (default 1) untimed
# rounds. CMD is a shell string for eval; its output is discarded. Hooks, untimed:
#   BENCH_BEFORE=FUNC   called as FUNC LABEL before each run (reset state: remove an output, sync, ...)
#   BENCH_AFTER=FUNC    called as FUNC LABEL after each run
#   BENCH_SYNC=1        also time a 'sync' after the command: LABEL.us gets command+sync, LABEL.nosync.us
#                       the command alone
# A run that fails is not timed: it is counted in LABEL.fail and its output kept in LABEL.err.
bench_interleave() {
        local runs=$1 warm=${BENCH_WARMUP:-1} labels=() cmds=() i r k n t0 t1 t2 rc
        shift
        while [ $# -gt 0 ]; do
                labels+=("$1")
                cmds+=("$2")
                shift 2
        done
        n=${#labels[@]}
        for ((i = 0; i < n; i++)); do
                : >"$BENCH_DATA/${labels[i]}.us"
                : >"$BENCH_DATA/${labels[i]}.nosync.us"
                echo 0 >"$BENCH_DATA/${labels[i]}.fail"
        done
        for ((r = -warm; r < runs; r++)); do
                for ((k = 0; k < n; k++)); do
                        i=$(( (k + (r < 0 ? 0 : r)) % n ))
                        [ -n "${BENCH_BEFORE:-}" ] && "$BENCH_BEFORE" "${labels[i]}"
                        rc=0
                        t0=$(now_us)
                        eval "${cmds[i]}" >"$BENCH_DATA/${labels[i]}.out" 2>&1 </dev/null || rc=$?
                        t1=$(now_us)
                        if [ "${BENCH_SYNC:-0}" = 1 ]; then
                                sync
                        fi
                        t2=$(now_us)
                        [ -n "${BENCH_AFTER:-}" ] && "$BENCH_AFTER" "${labels[i]}"
                        if [ "$rc" -ne 0 ]; then
                                echo $(( $(cat "$BENCH_DATA/${labels[i]}.fail") + 1 )) >"$BENCH_DATA/${labels[i]}.fail"
                                { echo "--- exit $rc: ${cmds[i]}"; tail -n 20 "$BENCH_DATA/${labels[i]}.out"; } \
                                        >>"$BENCH_DATA/${labels[i]}.err"
                                continue
                        fi
                        [ "$r" -lt 0 ] && continue
                        echo $((t2 - t0)) >>"$BENCH_DATA/${labels[i]}.us"
                        echo $((t1 - t0)) >>"$BENCH_DATA/${labels[i]}.nosync.us"
                done
        done
}

# bench_time LABEL CMD: one timed run of CMD (output discarded), appended to LABEL.us; returns its status.
bench_time() {
        local t0 t1 rc=0
        t0=$(now_us)
        eval "$2" >"$BENCH_DATA/$1.out" 2>&1 </dev/null || rc=$?
        t1=$(now_us)
        [ "$rc" -eq 0 ] && echo $((t1 - t0)) >>"$BENCH_DATA/$1.us"
        return "$rc"
}

# bench_stats FILE: prints "MEDIAN MIN MAX N" of the numbers in FILE (nothing if it has none).
bench_stats() {
        [ -s "$1" ] || return 0
        sort -n "$1" | awk '
                { v[NR] = $1 }
                END {
                        if (NR == 0) exit
                        m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
                        printf "%s %s %s %d\n", m, v[1], v[NR], NR
                }'
}

# fmt_ms MICROSECONDS: "123 ms", "1.23 ms", "12.3 s".
fmt_ms() {
        awk -v u="$1" 'BEGIN {
                ms = u / 1000
                if (ms >= 10000) printf "%.1f s", ms / 1000
                else if (ms >= 100) printf "%.0f ms", ms
                else if (ms >= 10) printf "%.1f ms", ms
                else printf "%.2f ms", ms }'
}

# fmt_mib KIB: "12.3 MiB".
fmt_mib() {
        awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'
}

# fmt_ratio A B: "1.23×" (A/B).
fmt_ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f×", a / b; else printf "n/a" }'
}

# verdict VALUE LIMIT: PASS when VALUE <= LIMIT (numbers, any unit).
verdict() {
        awk -v v="$1" -v l="$2" 'BEGIN { print (v <= l) ? "PASS" : "FAIL" }'
}

# ---------------------------------------------------------------------------------------------------
# The results table: one row per line in $BENCH_ROWS, fields separated by tabs.

# row SECTION WHAT MEDIAN MIN-MAX N VS-PEER TARGET
row() {
        local IFS=$'\t'
        echo "$*" >>"$BENCH_ROWS"
}

# timing_row SECTION WHAT LABEL [VS-PEER] [TARGET]: a row from LABEL.us's statistics. Prints the median
# (µs) on stdout, or nothing when LABEL has no successful run.
timing_row() {
        local sec=$1 what=$2 label=$3 vs=${4:-} target=${5:-} s fails
        s=$(bench_stats "$BENCH_DATA/$label.us")
        fails=$(cat "$BENCH_DATA/$label.fail" 2>/dev/null || echo 0)
        if [ -z "$s" ]; then
                row "$sec" "$what" "failed" "" "0" "" "${target:+$target (no successful run; see the log)}"
                return 0
        fi
        set -- $s
        [ "$fails" -gt 0 ] && what="$what ($fails failed runs)"
        row "$sec" "$what" "$(fmt_ms "$1")" "$(fmt_ms "$2") – $(fmt_ms "$3")" "$4" "$vs" "$target"
        echo "$1"
}

# render_table: the rows as a markdown table.
render_table() {
        echo "| # | measurement | median | min – max | n | vs peer (same run) | target |"
        echo "|---|---|---|---|---|---|---|"
        awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$BENCH_ROWS"
}

# ---------------------------------------------------------------------------------------------------
# The throwaway systemd host (bench/run only): like test/integration/run-in-host.sh, it shares this
# machine's /usr with the build's 'meson install' overlaid on it, on a tmpfs root (--volatile=yes).
# Unlike it, it binds a directory of this machine's disk at /var/lib/rocket-bench (stores, pods, images),
# the source tree read-only at /run/rocket-bench-src and an output directory at /run/rocket-bench-out.

HOST_NSPAWN_PID=
HOST_LEADER=

# host_boot WORKDIR LAYOUT: WORKDIR has root/ (the staged install), data/, out/, machine-id.
host_boot() {
        local work=$1 layout=$2 src state= c env=()
        src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
        [ "$layout" = unified ] && env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1)
        [ "$layout" = hybrid ] && env=(SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0)
        # A real host has no seccomp filter and every capability: without them crun cannot load its
        # device-cgroup eBPF program, so podman and crun would not run at all.
        env "${env[@]}" SYSTEMD_SECCOMP=0 SYSTEMD_NSPAWN_API_VFS_WRITABLE=1 systemd-nspawn -D / --volatile=yes --register=no --keep-unit \
                -M rocket-bench --capability=all --console=read-only --private-network \
                --overlay-ro="/usr:$work/root/usr:/usr" \
                --bind-ro="$work/machine-id:/etc/machine-id" \
                --bind-ro=/etc/alternatives \
                --bind-ro="$src:/run/rocket-bench-src" \
                --bind="$work/out:/run/rocket-bench-out" \
                --bind="$work/data:/var/lib/rocket-bench" \
                -b systemd.firstboot=off systemd.mask=console-getty.service \
                systemd.mask=getty.target systemd.mask=systemd-networkd-wait-online.service \
                >"$work/boot.log" 2>&1 </dev/null &
        HOST_NSPAWN_PID=$!
        for _ in $(seq 300); do
                if [ -z "$HOST_LEADER" ]; then
                        c=$(awk '{print $1}' "/proc/$HOST_NSPAWN_PID/task/$HOST_NSPAWN_PID/children" 2>/dev/null || true)
                        [ -n "$c" ] && [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && HOST_LEADER=$c
                fi
                if [ -n "$HOST_LEADER" ]; then
                        state=$(timeout 5 nsenter -t "$HOST_LEADER" -a systemctl is-system-running 2>/dev/null || true)
                        case "$state" in
                                running|degraded) return 0 ;;
                        esac
                fi
                kill -0 "$HOST_NSPAWN_PID" 2>/dev/null || break
                sleep 0.2
        done
        echo "bench: the $layout host did not boot (state: '${state:-none}'); boot log:" >&2
        tail -n 40 "$work/boot.log" >&2
        return 1
}

# host_run CMD...: runs CMD inside the host, with a clean environment plus the BENCH_* variables.
host_run() {
        local envs=() v
        for v in $(compgen -e | grep '^BENCH_' || true); do
                envs+=("$v=${!v}")
        done
        nsenter -t "$HOST_LEADER" -a env -i \
                PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root LANG=C.UTF-8 "${envs[@]}" "$@"
}

# host_teardown: poweroff, then TERM, then KILL, only our own nspawn; waits until it is gone.
host_teardown() {
        [ -n "$HOST_NSPAWN_PID" ] || return 0
        if kill -0 "$HOST_NSPAWN_PID" 2>/dev/null; then
                if [ -n "$HOST_LEADER" ] && kill -0 "$HOST_LEADER" 2>/dev/null; then
                        timeout 10 nsenter -t "$HOST_LEADER" -a systemctl poweroff --no-block >/dev/null 2>&1 || true
                fi
                for _ in $(seq 150); do
                        kill -0 "$HOST_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.2
                done
                kill -TERM "$HOST_NSPAWN_PID" 2>/dev/null || true
                for _ in $(seq 50); do
                        kill -0 "$HOST_NSPAWN_PID" 2>/dev/null || break
                        sleep 0.2
                done
                kill -KILL "$HOST_NSPAWN_PID" 2>/dev/null || true
        fi
        wait "$HOST_NSPAWN_PID" 2>/dev/null || true
        HOST_NSPAWN_PID=
        HOST_LEADER=
}
