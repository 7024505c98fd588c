#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The measurements. Runs as root inside the throwaway systemd host that bench/run boots (it needs
# machined and journald, as pods do), with the source tree at $BENCH_SRC, the results going to
# $BENCH_OUT and everything it makes under $BENCH_DISK (a directory of the real machine's disk).
#
# Sections (each one's failure is reported in the table and does not stop the others):
#   1 start-to-exit latency of a one-shot app   4 density: N sleeping pods up, healthy, stopped, gc'd
#   2 time to ready (pod@.service)              5 import of a ~300 MB three-layer image
#   3 per-pod memory overhead                   6 store operations at scale (list, gc, images)
#   7 apps of a running sandbox pod: add + start, stop
set -euo pipefail

src=${BENCH_SRC:-/run/rocket-bench-src}
out=${BENCH_OUT:-/run/rocket-bench-out}
disk=${BENCH_DISK:-/var/lib/rocket-bench}
. "$src/bench/lib.sh"

if [ "${BENCH_QUICK:-0}" = 1 ]; then
        runs=${BENCH_RUNS:-3} mem_runs=${BENCH_MEM_RUNS:-1} density=${BENCH_DENSITY:-5}
        import_mb=${BENCH_IMPORT_MB:-30} import_runs=${BENCH_IMPORT_RUNS:-2}
        store_counts=${BENCH_STORE_COUNTS:-"10 30"} images=${BENCH_IMAGES:-20} gc_runs=${BENCH_GC_RUNS:-1}
else
        runs=${BENCH_RUNS:-10} mem_runs=${BENCH_MEM_RUNS:-3} density=${BENCH_DENSITY:-100}
        import_mb=${BENCH_IMPORT_MB:-300} import_runs=${BENCH_IMPORT_RUNS:-5}
        store_counts=${BENCH_STORE_COUNTS:-"10 100 1000"} images=${BENCH_IMAGES:-200} gc_runs=${BENCH_GC_RUNS:-2}
fi
settle=${BENCH_SETTLE:-2}      # seconds a long-running pod is left alone before its memory is read

export BENCH_DATA=$disk/times BENCH_ROWS=$out/rows.tsv
export ROCKET_DIR=$disk/rocket
fx=$disk/fixtures
notes=$out/notes.md
img=busybox:bench
pimg=localhost/busybox:bench
podman_opts=()
rm -rf "$BENCH_DATA" "$fx" "$ROCKET_DIR"
mkdir -p "$BENCH_DATA" "$fx" "$ROCKET_DIR"
: >"$BENCH_ROWS"
: >"$notes"

log() { echo "[$(date +%T)] $*" >&2; }
note() { echo "- $*" >>"$notes"; }

# wait_until 'CONDITION' TIMEOUT_SECONDS
wait_until() {
        local deadline=$(( $(now_us) + $2 * 1000000 ))
        until eval "$1" >/dev/null 2>&1; do
                [ "$(now_us)" -lt "$deadline" ] || return 1
                sleep 0.05
        done
}

# ---------------------------------------------------------------------------------------------------
# Memory: PSS, USS (private clean + dirty) and RSS in KiB, from /proc/PID/smaps_rollup.

# mem_of PID...: prints "PSS USS RSS" summed over the PIDs (those that are gone count nothing).
mem_of() {
        local files=() p
        for p in "$@"; do
                [ -r "/proc/$p/smaps_rollup" ] && files+=("/proc/$p/smaps_rollup")
        done
        [ ${#files[@]} -gt 0 ] || { echo "0 0 0"; return; }
        awk '/^Pss:/ { p += $2 } /^Private_(Clean|Dirty):/ { u += $2 } /^Rss:/ { r += $2 }
             END { printf "%d %d %d\n", p, u, r }' "${files[@]}" 2>/dev/null
}

# cgroup_pids CGROUP: PIDs in that cgroup (the cgroup2 path as systemd shows it) or below it. One pass
# over /proc: lines look like "/proc/PID/cgroup:0::/PATH".
cgroup_pids() {
        grep -H '^0::' /proc/[0-9]*/cgroup 2>/dev/null |
                awk -F: -v cg="$1" '{ split($1, f, "/") } $4 == cg || index($4, cg "/") == 1 { print f[3] }'
}

# cgroup_mem_kib CGROUP: the cgroup's memory.current in KiB, or nothing where the host's cgroup2 has no
# memory controller (so not in this nspawn host on a machine whose memory controller is on cgroup v1).
cgroup_mem_kib() {
        local f=/sys/fs/cgroup$1/memory.current
        [ -r "$f" ] && echo $(( $(cat "$f") / 1024 ))
        return 0
}

# machine_cgroup NAME: the control group of the machine's scope.
machine_cgroup() {
        systemctl show -p ControlGroup --value "$(machinectl show "$1" -p Unit --value)"
}

# ---------------------------------------------------------------------------------------------------
# Fixtures: the busybox image in rocket's and podman's stores, a crun bundle, a rootfs for plain
# nspawn, and the minimal systemd tree (rocket's own stage1 image) for nspawn -b.

stage1_rootfs() {
        local d
        d=$(dirname "$(dirname "$(command -v rocket)")")/lib/rocket/stage1-systemd/rootfs
        echo "${BENCH_STAGE1_ROOTFS:-$d}"
}

# make_tree DIR APP-COMMAND: rocket's stage1 tree (systemd, journald, systemd-shutdown and their libraries,
# rocket's minimal units) without rocket's lock helper, plus busybox in /opt/app, and one service that
# runs APP-COMMAND chrooted there (as the stage1 chroots an app into its rootfs) and powers the
# machine off when it ends, as the stage1's helper does. journald writes to /var/log/journal from the
# start, as in a pod (the stage1 marks the journal "flushed" before it boots).
make_tree() {
        local t=$1 cmd=$2
        cp -a "$(stage1_rootfs)" "$t"
        rm -f "$t/usr/lib/systemd/system/sysinit.target.wants/rocket-pod-lock.service"
        cp -a "$fx/bundle/rootfs" "$t/opt/app"
        mkdir -p "$t/etc/systemd/system/default.target.wants" "$t/etc/systemd/system/systemd-journald.service.d"
        cat >"$t/etc/systemd/system/bench-app.service" <<EOF
[Unit]
Description=The benchmark's app
SuccessAction=poweroff
FailureAction=poweroff

[Service]
Type=exec
RootDirectory=/opt/app
ExecStart=$cmd
StandardOutput=journal
StandardError=journal
EOF
        ln -s ../bench-app.service "$t/etc/systemd/system/default.target.wants/bench-app.service"
        cat >"$t/etc/systemd/system/systemd-journald.service.d/persistent.conf" <<'EOF'
[Service]
ExecStartPre=/opt/app/bin/busybox sh -c "mkdir -p /run/systemd/journal && : >/run/systemd/journal/flushed"
EOF
}

setup() {
        log "fixtures: busybox image, podman store, crun bundle, nspawn trees"
        # This host's /etc is a fresh tmpfs: podman's configuration, with its store on the disk.
        mkdir -p /etc/containers
        echo '{"default":[{"type":"insecureAcceptAnything"}]}' >/etc/containers/policy.json
        printf '[storage]\ndriver = "overlay"\ngraphroot = "%s"\nrunroot = "/run/containers/storage"\n' \
                "$disk/podman" >/etc/containers/storage.conf

        bash "$src/test/fixtures/mkbusybox.sh" "$fx/busybox"
        rocket fetch --name="$img" "oci:$fx/busybox:latest" >/dev/null
        skopeo copy --quiet "oci:$fx/busybox:latest" "containers-storage:$pimg"
        umoci unpack --image "$fx/busybox:latest" "$fx/bundle" >/dev/null
        jq '.process.terminal = false | .process.args = ["/bin/true"]' "$fx/bundle/config.json" >"$fx/config.json"
        mv "$fx/config.json" "$fx/bundle/config.json"
        # Plain nspawn wants a /usr in the tree.
        cp -a "$fx/bundle/rootfs" "$fx/nsroot"
        mkdir -p "$fx/nsroot/usr"
        make_tree "$fx/tree-true" /bin/true
        make_tree "$fx/tree-sleep" "/bin/sleep 100000"

        # podman and crun as they come; where they cannot run here, the smallest change that makes them.
        if ! podman run --rm --network=none "$pimg" /bin/true >"$fx/podman-probe.log" 2>&1; then
                if podman run --rm --network=none --cgroups=disabled "$pimg" /bin/true >/dev/null 2>&1; then
                        podman_opts=(--cgroups=disabled)
                        note "podman runs with --cgroups=disabled: as it comes it fails here with '$(head -n1 "$fx/podman-probe.log")' (crun raises RLIMIT_MEMLOCK before loading its device-cgroup eBPF program, and root on this machine lacks CAP_SYS_RESOURCE). Its containers get no cgroup of their own, so podman does a little less work than usual."
                else
                        note "podman cannot run containers here: $(head -n1 "$fx/podman-probe.log")"
                fi
        fi
        if ! crun run -b "$fx/bundle" bench-probe >"$fx/crun-probe.log" 2>&1; then
                jq 'del(.linux.resources.devices)' "$fx/bundle/config.json" >"$fx/config.json"
                mv "$fx/config.json" "$fx/bundle/config.json"
                note "crun runs the bundle without its device-cgroup rules (rocket sets none either): with them it fails here with '$(head -n1 "$fx/crun-probe.log")'."
                crun run -b "$fx/bundle" bench-probe >/dev/null 2>&1 || note "crun cannot run the bundle here."
        fi
}

# ---------------------------------------------------------------------------------------------------
# 1. Start-to-exit latency of a one-shot app (/bin/true) from the cached busybox image.

# ratios LABEL PEER:NAME...: "1.23× NAME, ..." for LABEL's median over each peer's.
ratios() {
        local label=$1 s ps r=() p
        s=$(bench_stats "$BENCH_DATA/$label.us")
        [ -n "$s" ] || return 0
        shift
        for p in "$@"; do
                ps=$(bench_stats "$BENCH_DATA/${p%%:*}.us")
                [ -n "$ps" ] && r+=("$(fmt_ratio "${s%% *}" "${ps%% *}") ${p#*:}")
        done
        local IFS=,
        echo "${r[*]}" | sed 's/,/, /g; s/ *$//'
}

latency_before() {
        case $1 in
                rocket*) rocket gc --grace-period=0 >/dev/null 2>&1 || true ;;
                nspawn-b*) rm -rf "$fx"/tree-true/var/log/journal/* ;;
        esac
}

section_latency() {
        log "1. start-to-exit latency, $runs interleaved runs each"
        BENCH_BEFORE=latency_before bench_interleave "$runs" \
                rocket "rocket run --net=host --exec /bin/true $img" \
                rocket-net "rocket run --exec /bin/true $img" \
                rocket-fly "rocket run --stage1-name=fly --exec /bin/true $img" \
                rocket-userns "rocket run --net=host --private-users --exec /bin/true $img" \
                nspawn-b "systemd-nspawn -q --register=no --console=pipe -D $fx/tree-true -b" \
                nspawn-b-reg "systemd-nspawn -q -M benchtree --console=pipe -D $fx/tree-true -b" \
                nspawn "systemd-nspawn -q --register=no -D $fx/nsroot /bin/true" \
                podman "podman run --rm --network=none ${podman_opts[*]} $pimg /bin/true" \
                podman-net "podman run --rm ${podman_opts[*]} $pimg /bin/true" \
                crun "crun run -b $fx/bundle bench-true"
        local s n r=
        s=$(bench_stats "$BENCH_DATA/rocket.us")
        n=$(bench_stats "$BENCH_DATA/nspawn-b.us")
        if [ -n "$s" ] && [ -n "$n" ]; then
                r="≤ 1.1× nspawn -b: $(verdict "$(awk -v a="${s%% *}" -v b="${n%% *}" 'BEGIN { print a / b }')" 1.1)"
        fi
        timing_row 1 "start-to-exit: \`rocket run --net=host --exec /bin/true\` (stage1-systemd, the host's network)" rocket \
                "$(ratios rocket nspawn-b:"nspawn -b" nspawn-b-reg:"nspawn -b registered" nspawn:nspawn podman:podman crun:crun)" \
                "${r:-≤ 1.1× nspawn -b: FAIL (not measured)}" >/dev/null
        # The default network (ptp + host-local + masquerade + firewall through CNI) against the host's, and
        # against podman with its own default network.
        local h p
        s=$(bench_stats "$BENCH_DATA/rocket-net.us")
        h=$(bench_stats "$BENCH_DATA/rocket.us")
        p=$(bench_stats "$BENCH_DATA/podman-net.us")
        r="≤ 1.15× --net=host: FAIL (not measured)"
        [ -n "$s" ] && [ -n "$h" ] &&
                r="≤ 1.15× --net=host: $(verdict "$(awk -v a="${s%% *}" -v b="${h%% *}" 'BEGIN { print a / b }')" 1.15)"
        [ -n "$s" ] && [ -n "$p" ] &&
                r="$r; ≤ 0.5× podman's network: $(verdict "$(awk -v a="${s%% *}" -v b="${p%% *}" 'BEGIN { print a / b }')" 0.5)"
        timing_row 1 "start-to-exit: \`rocket run --exec /bin/true\` (the default network: a netns of its own, CNI)" \
                rocket-net "$(ratios rocket-net rocket:"--net=host" podman-net:"podman with its network" nspawn-b:"nspawn -b")" \
                "$r" >/dev/null
        s=$(bench_stats "$BENCH_DATA/rocket-fly.us")
        n=$(bench_stats "$BENCH_DATA/crun.us")
        r=
        if [ -n "$s" ] && [ -n "$n" ]; then
                r="≤ 2× crun: $(verdict "$(awk -v a="${s%% *}" -v b="${n%% *}" 'BEGIN { print a / b }')" 2)"
        fi
        timing_row 1 "start-to-exit: \`rocket run --stage1-name=fly --exec /bin/true\`" rocket-fly \
                "$(ratios rocket-fly crun:crun nspawn:nspawn podman:podman)" "${r:-≤ 2× crun: FAIL (not measured)}" >/dev/null
        timing_row 1 "start-to-exit: \`rocket run --net=host --private-users --exec /bin/true\` (a user namespace of its own)" \
                rocket-userns "$(ratios rocket-userns rocket:"rocket without" nspawn-b:"nspawn -b")" >/dev/null
        timing_row 1 "peer: \`systemd-nspawn -b\` of the same minimal systemd tree, --register=no" nspawn-b >/dev/null
        timing_row 1 "peer: \`systemd-nspawn -b\` of the same tree, registered with machined" nspawn-b-reg >/dev/null
        timing_row 1 "peer: \`systemd-nspawn --register=no -D ROOTFS /bin/true\`" nspawn >/dev/null
        timing_row 1 "peer: \`podman run --rm --network=none\`${podman_opts[*]:+ ${podman_opts[*]}}" podman >/dev/null
        timing_row 1 "peer: \`podman run --rm\` (its default network)${podman_opts[*]:+ ${podman_opts[*]}}" podman-net >/dev/null
        timing_row 1 "peer: \`crun run\` of the umoci-unpacked bundle" crun >/dev/null
}

# ---------------------------------------------------------------------------------------------------
# 2. Time to ready: from 'systemctl start pod@NAME' (Type=notify) to the app answering on its port.
# Prints the microseconds from 'systemctl start pod@benchready' to the first answer of its app (busybox
# httpd serving /var/www/index.html on the pod's port 80, forwarded from the host's $ready_port), once per run.

ready_port=18181

ready_rocket() {
        systemctl cat pod@.service >/dev/null 2>&1 || return 2
        mkdir -p /run/rocket/pods
        printf '[Pod]\nPort=%s:80\n\n[App web]\nImage=%s\nExec=/bin/httpd\nArgs=-f -p 80 -h /var/www\n' "$ready_port" "$img" \
                >/run/rocket/pods/benchready.pod
        # The unit runs rocket with the bench's data directory.
        mkdir -p /run/systemd/system/pod@benchready.service.d
        printf '[Service]\nEnvironment=ROCKET_DIR=%s\n' "$ROCKET_DIR" >/run/systemd/system/pod@benchready.service.d/dir.conf
        systemctl daemon-reload
        local i t0 t1 deadline
        for ((i = 0; i < runs; i++)); do
                rocket gc --grace-period=0 >/dev/null 2>&1 || true
                t0=${EPOCHREALTIME/./}
                systemctl start pod@benchready || return 1
                deadline=$((t0 + 10000000))
                until busybox wget -q -O /dev/null "http://127.0.0.1:$ready_port/" 2>/dev/null; do
                        [ "${EPOCHREALTIME/./}" -lt "$deadline" ] || return 1
                done
                t1=${EPOCHREALTIME/./}
                echo $((t1 - t0))
                systemctl stop pod@benchready
        done
        rm -rf /run/rocket/pods/benchready.pod /run/systemd/system/pod@benchready.service.d
        systemctl daemon-reload
}

section_ready() {
        log "2. time to ready"
        if ready_rocket >"$BENCH_DATA/ready.us"; then
                timing_row 2 "time to ready: \`systemctl start pod@x\` (Type=notify) → app answers" ready >/dev/null
        else
                row 2 "time to ready: \`systemctl start pod@x\` (Type=notify) → app answers" \
                        "failed (see the log)" "" "" "" ""
        fi
}

# ---------------------------------------------------------------------------------------------------
# 3. Per-pod overhead: the memory of everything a long-running pod costs beyond its app.

# overhead_record LABEL APP-PID PID...: appends PSS and USS (KiB) of PIDs except APP-PID to LABEL.pss,
# LABEL.uss, the app's own to LABEL-app.*, and a per-process breakdown to LABEL.detail.
overhead_record() {
        local label=$1 app=$2 p pss uss rss
        shift 2
        local others=()
        : >"$BENCH_DATA/$label.detail"
        for p in $(printf '%s\n' "$@" | sort -un); do
                [ "$p" = "$app" ] && continue
                others+=("$p")
                read -r pss uss rss < <(mem_of "$p")
                echo "$(cat "/proc/$p/comm" 2>/dev/null || echo "?") $pss $uss" >>"$BENCH_DATA/$label.detail"
        done
        read -r pss uss rss < <(mem_of "${others[@]}")
        echo "$pss" >>"$BENCH_DATA/$label.pss"
        echo "$uss" >>"$BENCH_DATA/$label.uss"
        read -r pss uss rss < <(mem_of "$app")
        echo "$pss" >>"$BENCH_DATA/$label-app.pss"
        echo "$uss" >>"$BENCH_DATA/$label-app.uss"
}

overhead_rocket() {
        local sup cg app pids
        rocket run --name ovhrocket --exec /bin/sleep "$img" -- 100000 >/dev/null 2>&1 &
        sup=$!
        wait_until "rocket status ovhrocket | grep -q app-busybox=running" 30
        sleep "$settle"
        cg=$(machine_cgroup ovhrocket)
        pids=$(cgroup_pids "$cg")
        app=$(sleep_pid $pids)
        # $sup is 'rocket run', which became the stage1's run entrypoint (exec): the supervisor.
        overhead_record rocket "$app" $pids "$sup"
        cgroup_mem_kib "$cg" >>"$BENCH_DATA/rocket.cgmem"
        # How long a graceful stop takes, until the supervisor has exited.
        local t0
        t0=$(now_us)
        rocket stop ovhrocket >/dev/null
        wait "$sup" || true
        echo $(( $(now_us) - t0 )) >>"$BENCH_DATA/stop-rocket.us"
        rocket rm ovhrocket >/dev/null 2>&1 || true
}

overhead_podman() {
        local conmon app cg
        podman run -d --name ovhpodman --network=none "${podman_opts[@]}" "$pimg" /bin/sleep 100000 >/dev/null
        sleep "$settle"
        conmon=$(podman inspect -f '{{.State.ConmonPid}}' ovhpodman)
        app=$(podman inspect -f '{{.State.Pid}}' ovhpodman)
        # The container's cgroup holds the app alone; conmon (and crun, gone once the app started) is
        # what podman adds.
        overhead_record podman "$app" "$conmon" "$app"
        cg=$(sed -n 's/^0:://p' "/proc/$conmon/cgroup")
        cgroup_mem_kib "$cg" >>"$BENCH_DATA/podman.cgmem"
        podman rm -f -t 0 ovhpodman >/dev/null
}

# sleep_pid PID...: the one that is the app, busybox sleep.
sleep_pid() {
        local p
        for p in "$@"; do
                if [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ]; then
                        echo "$p"
                        return 0
                fi
        done
        return 0
}

cgroup_has_sleep() {
        local p
        for p in $(cgroup_pids "$1"); do
                grep -qx sleep "/proc/$p/comm" 2>/dev/null && return 0
        done
        return 1
}

overhead_nspawn() {
        local sup cg app pids
        systemd-nspawn -q -M ovhnspawn --console=pipe -D "$fx/tree-sleep" -b >/dev/null 2>&1 </dev/null &
        sup=$!
        wait_until "machinectl show ovhnspawn -p Unit --value | grep -q scope" 30
        cg=$(machine_cgroup ovhnspawn)
        wait_until "cgroup_has_sleep $cg" 30
        sleep "$settle"
        pids=$(cgroup_pids "$cg")
        app=$(sleep_pid $pids)
        kill -0 "$sup" || { echo "systemd-nspawn is gone: machine ovhnspawn is not ours" >&2; return 1; }
        overhead_record nspawn "$app" $pids "$sup"
        cgroup_mem_kib "$cg" >>"$BENCH_DATA/nspawn.cgmem"
        local t0
        t0=$(now_us)
        machinectl poweroff ovhnspawn
        wait "$sup" || true
        echo $(( $(now_us) - t0 )) >>"$BENCH_DATA/stop-nspawn.us"
}

# mem_row SECTION WHAT FILE [TARGET-MIB] [VS]: a row of KiB figures shown in MiB.
mem_row() {
        local s verdict_text=
        s=$(bench_stats "$3")
        if [ -z "$s" ]; then
                row "$1" "$2" "n/a" "" "" "$5" "${4:+≤ $4 MiB: FAIL (not measured)}"
                return
        fi
        set -- "$1" "$2" "$3" "${4:-}" "${5:-}" $s
        [ -n "$4" ] && verdict_text="≤ $4 MiB: $(verdict "$(awk -v k="$6" 'BEGIN { print k / 1024 }')" "$4")"
        row "$1" "$2" "$(fmt_mib "$6")" "$(fmt_mib "$7") – $(fmt_mib "$8")" "$9" "$5" "$verdict_text"
}

section_overhead() {
        local r
        log "3. per-pod overhead, $mem_runs runs each"
        rm -f "$BENCH_DATA"/{rocket,podman,nspawn}{,-app}.{pss,uss} "$BENCH_DATA"/*.cgmem "$BENCH_DATA"/stop-*.us
        for ((r = 0; r < mem_runs; r++)); do
                overhead_rocket
                overhead_podman || note "podman: the long-running container failed"
                overhead_nspawn
        done
        local rp ru pp pu np nu
        rp=$(bench_stats "$BENCH_DATA/rocket.pss" | cut -d' ' -f1)
        ru=$(bench_stats "$BENCH_DATA/rocket.uss" | cut -d' ' -f1)
        pp=$(bench_stats "$BENCH_DATA/podman.pss" | cut -d' ' -f1)
        pu=$(bench_stats "$BENCH_DATA/podman.uss" | cut -d' ' -f1)
        np=$(bench_stats "$BENCH_DATA/nspawn.pss" | cut -d' ' -f1)
        nu=$(bench_stats "$BENCH_DATA/nspawn.uss" | cut -d' ' -f1)
        mem_row 3 "per-pod overhead USS: rocket (pod's systemd, journald, lock helper + \`rocket run\` supervisor)" \
                "$BENCH_DATA/rocket.uss" 10 "$(fmt_ratio "$ru" "$nu") nspawn -b, $(fmt_ratio "$ru" "$pu") podman"
        mem_row 3 "per-pod overhead PSS: rocket (same processes)" \
                "$BENCH_DATA/rocket.pss" 12 "$(fmt_ratio "$rp" "$np") nspawn -b, $(fmt_ratio "$rp" "$pp") podman"
        mem_row 3 "peer overhead USS: \`systemd-nspawn -b\` of the same tree (systemd, journald + nspawn)" "$BENCH_DATA/nspawn.uss"
        mem_row 3 "peer overhead PSS: \`systemd-nspawn -b\` of the same tree" "$BENCH_DATA/nspawn.pss"
        mem_row 3 "peer overhead USS: podman (conmon; crun exits once the app runs)" "$BENCH_DATA/podman.uss"
        mem_row 3 "peer overhead PSS: podman (conmon)" "$BENCH_DATA/podman.pss"
        mem_row 3 "the app itself (busybox sleep) in a rocket pod, PSS" "$BENCH_DATA/rocket-app.pss"
        if [ -s "$BENCH_DATA/rocket.cgmem" ]; then
                mem_row 3 "rocket pod's cgroup memory.current (pod + app)" "$BENCH_DATA/rocket.cgmem"
                mem_row 3 "nspawn -b machine's cgroup memory.current" "$BENCH_DATA/nspawn.cgmem"
        else
                row 3 "pod cgroup memory.current" "n/a (this host's cgroup2 has no memory controller)" "" "" "" ""
        fi
        timing_row 3 "graceful stop of that long-running pod: \`rocket stop\` → \`rocket run\` exited" stop-rocket \
                "$(ratios stop-rocket stop-nspawn:"nspawn -b")" >/dev/null
        timing_row 3 "peer: \`machinectl poweroff\` of the nspawn -b machine → systemd-nspawn exited" stop-nspawn >/dev/null
        {
                echo "- per-process overhead, last run (PSS/USS KiB):"
                for l in rocket nspawn podman; do
                        echo "  $l: $(awk '{ printf "%s%s %s/%s", sep, $1, $2, $3; sep = ", " }' "$BENCH_DATA/$l.detail" 2>/dev/null)"
                done
        } >>"$notes"
}

# ---------------------------------------------------------------------------------------------------
# 4. Density: N sleeping pods started at once; wall time until all run, all healthy; memory; stop; gc.

mem_available_kib() { awk '/^MemAvailable:/ { print $2 }' /proc/meminfo; }

section_density() {
        local i names=() sups=() t0 t_up=0 up avail0 avail1 healthy=0 pids="" cg pss uss rss t_stop t_gc
        log "4. density: $density pods"
        rocket gc --grace-period=0 >/dev/null 2>&1 || true
        for ((i = 1; i <= density; i++)); do
                names+=("$(printf 'dens%03d' "$i")")
        done
        sync
        avail0=$(mem_available_kib)
        t0=$(now_us)
        rm -rf "$BENCH_DATA/density"
        mkdir -p "$BENCH_DATA/density"
        for n in "${names[@]}"; do
                rocket run --name "$n" --exec /bin/sleep "$img" -- 100000 >"$BENCH_DATA/density/$n.log" 2>&1 &
                sups+=($!)
        done
        if wait_until "[ \$(rocket list --no-legend | grep -c ' running ') -ge $density ]" 300; then
                t_up=$(( $(now_us) - t0 ))
        fi
        up=$(rocket list --no-legend | grep -c ' running ' || true)
        sleep "$settle"
        # Healthy: running for rocket, registered with machined, its app answers 'rocket enter', and the pod
        # answers a ping at its address on the default network.
        for n in "${names[@]}"; do
                if rocket status "$n" 2>/dev/null | grep -q app-busybox=running &&
                        machinectl show "$n" -p State --value 2>/dev/null | grep -q running &&
                        rocket enter "$n" /bin/true >/dev/null 2>&1 &&
                        busybox ping -c 1 -W 2 "$(rocket status --format=json "$n" | jq -r '.networks[0].addresses[0]' | cut -d/ -f1)" \
                                >/dev/null 2>&1; then
                        healthy=$((healthy + 1))
                        cg=$(machine_cgroup "$n")
                        pids+=" $(cgroup_pids "$cg" | tr '\n' ' ')"
                fi
        done
        read -r pss uss rss < <(mem_of $pids "${sups[@]}")
        avail1=$(mem_available_kib)
        if [ "$healthy" -lt "$density" ]; then
                note "density: $((density - healthy)) of $density pods were not healthy; their states: $(rocket list --no-legend | awk '{ print $5 }' | sort | uniq -c | xargs), and what their \`rocket run\` printed: $(cat "$BENCH_DATA"/density/*.log | sort | uniq -c | sort -rn | head -n 3 | xargs)"
        fi
        t0=$(now_us)
        rocket stop "${names[@]}" >/dev/null || note "density: rocket stop failed"
        for s in "${sups[@]}"; do
                wait "$s" || true
        done
        t_stop=$(( $(now_us) - t0 ))
        t0=$(now_us)
        rocket gc --grace-period=0 >/dev/null 2>&1 || note "density: rocket gc failed"
        t_gc=$(( $(now_us) - t0 ))
        local left
        left=$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 | wc -l)
        local target="≤ 30 s, all healthy: FAIL"
        if [ "$t_up" -gt 0 ] && [ "$healthy" -eq "$density" ] &&
                [ "$(verdict "$t_up" "$(( 30 * 1000000 * density / 100 ))")" = PASS ]; then
                target="≤ 30 s, all healthy: PASS"
        fi
        [ "$density" -ne 100 ] && target="$target (scaled to $density pods)"
        row 4 "density: $density \`rocket run\` sleeping pods started at once → all running" \
                "$([ "$t_up" -gt 0 ] && fmt_ms "$t_up" || echo "timeout ($up up)")" "" 1 \
                "$healthy/$density healthy" "$target"
        row 4 "density: memory of the $healthy healthy pods (PSS of pods + supervisors; MemAvailable drop)" \
                "$(fmt_mib "$pss")" "" 1 "$(fmt_mib $(( pss / (healthy > 0 ? healthy : 1) ))) per pod; MemAvailable −$(fmt_mib $(( avail0 - avail1 )))" ""
        row 4 "density: \`rocket stop\` all $density (one command) → all supervisors exited" "$(fmt_ms "$t_stop")" "" 1 "" ""
        row 4 "density: \`rocket gc --grace-period=0\` of the $density exited pods" "$(fmt_ms "$t_gc")" "" 1 \
                "$left pod dirs left" ""
        density_podman
}

# The same with podman: detached containers, started at once.
density_podman() {
        local i names=() t0 t_up=0 up avail0 avail1 pss uss rss pids="" n t_stop
        [ "${BENCH_DENSITY_PODMAN:-1}" = 1 ] || return 0
        for ((i = 1; i <= density; i++)); do
                names+=("$(printf 'pdens%03d' "$i")")
        done
        sync
        avail0=$(mem_available_kib)
        t0=$(now_us)
        for n in "${names[@]}"; do
                podman run -d --name "$n" --network=none "${podman_opts[@]}" "$pimg" /bin/sleep 100000 \
                        >/dev/null 2>>"$BENCH_DATA/podman-density.err" &
        done
        wait
        if wait_until "[ \$(podman ps -q | wc -l) -ge $density ]" 300; then
                t_up=$(( $(now_us) - t0 ))
        fi
        up=$(podman ps -q | wc -l)
        sleep "$settle"
        for n in "${names[@]}"; do
                pids+=" $(podman inspect -f '{{.State.ConmonPid}} {{.State.Pid}}' "$n" 2>/dev/null || true)"
        done
        read -r pss uss rss < <(mem_of $pids)
        avail1=$(mem_available_kib)
        t0=$(now_us)
        podman stop -t 0 "${names[@]}" >/dev/null 2>&1 || true
        t_stop=$(( $(now_us) - t0 ))
        podman rm -f -t 0 "${names[@]}" >/dev/null 2>&1 || true
        row 4 "peer: $density \`podman run -d\` started at once → all running" \
                "$([ "$t_up" -gt 0 ] && fmt_ms "$t_up" || echo "timeout ($up up)")" "" 1 "$up/$density up" ""
        row 4 "peer: podman memory ($density × conmon + app, PSS)" "$(fmt_mib "$pss")" "" 1 \
                "$(fmt_mib $(( pss / density ))) per container; MemAvailable −$(fmt_mib $(( avail0 - avail1 )))" ""
        row 4 "peer: \`podman stop -t 0\` all $density" "$(fmt_ms "$t_stop")" "" 1 "" ""
}

# ---------------------------------------------------------------------------------------------------
# 5. Import of a ~300 MB three-layer image (incompressible data) from an OCI layout.

make_big_image() {
        local l b=$fx/big-bundle per=$(( import_mb / 3 )) big small k
        big=$(( per * 2 / 3 ))
        small=$(( (per - big) * 4 ))        # 256 KiB files
        umoci init --layout "$fx/big"
        umoci new --image "$fx/big:latest"
        for l in 1 2 3; do
                umoci unpack --image "$fx/big:latest" "$b" >/dev/null
                mkdir -p "$b/rootfs/layer$l"
                head -c "${big}M" /dev/urandom >"$b/rootfs/layer$l/big.bin"
                for ((k = 0; k < small; k++)); do
                        head -c 256K /dev/urandom >"$b/rootfs/layer$l/small-$k.bin"
                done
                umoci repack --image "$fx/big:latest" "$b" >/dev/null
                rm -rf "$b"
        done
}

import_before() {
        rm -rf "$disk/import"
        mkdir -p "$disk/import"
        sync
}

section_import() {
        log "5. import: building a ${import_mb} MB three-layer image"
        make_big_image
        local size
        size=$(du -sm "$fx/big/blobs" | cut -f1)
        log "5. import: $import_runs interleaved runs each"
        BENCH_SYNC=1 BENCH_WARMUP=0 BENCH_BEFORE=import_before bench_interleave "$import_runs" \
                rocket-fetch "ROCKET_DIR=$disk/import/rocket rocket fetch oci:$fx/big:latest" \
                skopeo "skopeo copy --quiet oci:$fx/big:latest oci:$disk/import/skopeo:latest" \
                skopeo-umoci "skopeo copy --quiet oci:$fx/big:latest oci:$disk/import/su:latest && umoci unpack --image $disk/import/su:latest $disk/import/su-bundle"
        rm -rf "$disk/import"
        local s k r=
        s=$(bench_stats "$BENCH_DATA/rocket-fetch.us")
        k=$(bench_stats "$BENCH_DATA/skopeo.us")
        if [ -n "$s" ] && [ -n "$k" ]; then
                r="≤ 1.0× skopeo copy: $(verdict "$(awk -v a="${s%% *}" -v b="${k%% *}" 'BEGIN { print a / b }')" 1.0)"
        fi
        timing_row 5 "import ${size} MB, 3 layers: \`rocket fetch oci:DIR\` (verify + extract), until synced" rocket-fetch \
                "$(ratios rocket-fetch skopeo:"skopeo copy" skopeo-umoci:"skopeo copy + umoci unpack")" \
                "${r:-≤ 1.0× skopeo copy: FAIL (not measured)}" >/dev/null
        timing_row 5 "peer: \`skopeo copy oci:DIR oci:OTHER\` (no extraction), until synced" skopeo >/dev/null
        timing_row 5 "peer: \`skopeo copy\` + \`umoci unpack\`, until synced" skopeo-umoci >/dev/null
        for l in rocket-fetch skopeo; do
                mv "$BENCH_DATA/$l.nosync.us" "$BENCH_DATA/$l-nosync.us"
                echo 0 >"$BENCH_DATA/$l-nosync.fail"
        done
        timing_row 5 "the same, command alone (without the final sync): rocket fetch" rocket-fetch-nosync \
                "$(ratios rocket-fetch-nosync skopeo-nosync:"skopeo copy")" >/dev/null
        timing_row 5 "the same, command alone: skopeo copy" skopeo-nosync >/dev/null
        section_pull
        rm -rf "$fx/big"
}

pull_before() {
        import_before
        podman rmi -f 127.0.0.1:5000/bench/big:1 >/dev/null 2>&1 || true
}

# The same image pulled from Debian's docker-registry on loopback: rocket (verify + extract, layers in
# parallel) against skopeo copy to an OCI directory (verify, no extraction) and podman pull (verify + extract
# into its store).
section_pull() {
        local regdir=$disk/registry reg_pid s k p r1= r2= rss
        log "5. pull: a registry on 127.0.0.1:5000"
        mkdir -p "$regdir"
        printf 'version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n' \
                "$regdir" >"$fx/registry.yml"
        docker-registry serve "$fx/registry.yml" >"$fx/registry.log" 2>&1 &
        reg_pid=$!
        for _ in $(seq 100); do
                curl -s -o /dev/null http://127.0.0.1:5000/v2/ && break
                sleep 0.1
        done
        skopeo copy --quiet --dest-tls-verify=false "oci:$fx/big:latest" docker://127.0.0.1:5000/bench/big:1
        log "5. pull: $import_runs interleaved runs each"
        BENCH_SYNC=1 BENCH_WARMUP=0 BENCH_BEFORE=pull_before bench_interleave "$import_runs" \
                rocket-pull "ROCKET_DIR=$disk/import/rocket rocket fetch -q --insecure-options=http,image docker://127.0.0.1:5000/bench/big:1" \
                skopeo-pull "skopeo copy --quiet --src-tls-verify=false docker://127.0.0.1:5000/bench/big:1 oci:$disk/import/skopeo:latest" \
                podman-pull "podman pull --quiet --tls-verify=false 127.0.0.1:5000/bench/big:1"
        # Peak RSS of one pull (the process and its threads).
        pull_before
        rss=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' env ROCKET_DIR="$disk/import/rocket" \
                rocket fetch -q --insecure-options=http,image docker://127.0.0.1:5000/bench/big:1 || echo "")
        pull_before
        kill "$reg_pid" 2>/dev/null || true
        wait "$reg_pid" 2>/dev/null || true
        rm -rf "$regdir"
        s=$(bench_stats "$BENCH_DATA/rocket-pull.us")
        k=$(bench_stats "$BENCH_DATA/skopeo-pull.us")
        p=$(bench_stats "$BENCH_DATA/podman-pull.us")
        [ -n "$s" ] && [ -n "$k" ] &&
                r1="≤ 1.0× skopeo copy: $(verdict "$(awk -v a="${s%% *}" -v b="${k%% *}" 'BEGIN { print a / b }')" 1.0)"
        [ -n "$s" ] && [ -n "$p" ] &&
                r2="≤ 0.5× podman pull: $(verdict "$(awk -v a="${s%% *}" -v b="${p%% *}" 'BEGIN { print a / b }')" 0.5)"
        timing_row 5 "pull ${size} MB, 3 layers, from a loopback registry: \`rocket fetch docker://\` (verify + extract), until synced" \
                rocket-pull "$(ratios rocket-pull skopeo-pull:"skopeo copy" podman-pull:"podman pull")" \
                "${r1:-≤ 1.0× skopeo copy: FAIL (not measured)}; ${r2:-≤ 0.5× podman pull: FAIL (not measured)}" >/dev/null
        timing_row 5 "peer: \`skopeo copy docker:// oci:DIR\` (no extraction), until synced" skopeo-pull >/dev/null
        timing_row 5 "peer: \`podman pull\`, until synced" podman-pull >/dev/null
        if [ -n "$rss" ]; then
                row 5 "peak RSS of \`rocket fetch docker://\` (that image)" "$(awk -v k="$rss" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
                        "" "1" "" "≤ 64 MiB: $(verdict "$rss" 65536)"
        else
                row 5 "peak RSS of \`rocket fetch docker://\`" "failed" "" "0" "" "≤ 64 MiB: FAIL (not measured)"
        fi
}

# ---------------------------------------------------------------------------------------------------
# 6. Store operations at scale: list and gc with many exited pods, list and fetch with many images.

# clone_pods TEMPLATE N: N exited pods, copies of TEMPLATE (an exited pod's directory) with fresh UUIDs
# and names rewritten in their manifest. The journal file (4 MiB, preallocated) is copied sparse.
clone_pods() {
        local t=$1 n=$2 old_uuid old_name u i
        old_uuid=$(jq -r .uuid "$t/pod")
        old_name=$(jq -r .name "$t/pod")
        for ((i = 0; i < n; i++)); do
                u=$(cat /proc/sys/kernel/random/uuid)
                cp -a --sparse=always "$t" "$ROCKET_DIR/pods/run/$u"
                sed -i "s/\"uuid\":\"$old_uuid\"/\"uuid\":\"$u\"/; s/\"name\":\"$old_name\"/\"name\":\"clone-${u:0:8}\"/" \
                        "$ROCKET_DIR/pods/run/$u/pod"
                rm -f "$ROCKET_DIR/pods/run/$u/cgroup"
        done
}

pod_count() { find "$ROCKET_DIR/pods/run" -mindepth 1 -maxdepth 1 | wc -l; }

# many_images N: one OCI layout with N tags, each the busybox layer plus a small layer of its own.
many_images() {
        local n=$1 d=$fx/many w=$fx/many-work i bb_layer bb_diff t cfg man
        mkdir -p "$d/blobs/sha256" "$w"
        cp "$fx"/busybox/blobs/sha256/* "$d/blobs/sha256/"
        man=$(jq -r '.manifests[0].digest' "$fx/busybox/index.json")
        bb_layer=$(jq -c '.layers[0]' "$fx/busybox/blobs/sha256/${man#sha256:}")
        cfg=$(jq -r '.config.digest' "$fx/busybox/blobs/sha256/${man#sha256:}")
        bb_diff=$(jq -r '.rootfs.diff_ids[0]' "$fx/busybox/blobs/sha256/${cfg#sha256:}")
        printf '{"imageLayoutVersion":"1.0.0"}\n' >"$d/oci-layout"
        echo '{"schemaVersion":2,"manifests":[' >"$w/index"
        for ((i = 0; i < n; i++)); do
                rm -rf "$w/root"
                mkdir -p "$w/root/etc"
                echo "image $i" >"$w/root/etc/bench-image"
                tar --numeric-owner --mtime=@0 -C "$w/root" -cf "$w/layer.tar" .
                local diff ld ls cd cs md ms
                diff=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
                gzip -n -f "$w/layer.tar"
                ld=$(sha256sum "$w/layer.tar.gz" | cut -d' ' -f1)
                ls=$(stat -c %s "$w/layer.tar.gz")
                mv "$w/layer.tar.gz" "$d/blobs/sha256/$ld"
                printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":["%s","sha256:%s"]}}' \
                        "$bb_diff" "$diff" >"$w/config"
                cd=$(sha256sum "$w/config" | cut -d' ' -f1)
                cs=$(stat -c %s "$w/config")
                mv "$w/config" "$d/blobs/sha256/$cd"
                printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s,{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
                        "$cd" "$cs" "$bb_layer" "$ld" "$ls" >"$w/manifest"
                md=$(sha256sum "$w/manifest" | cut -d' ' -f1)
                ms=$(stat -c %s "$w/manifest")
                mv "$w/manifest" "$d/blobs/sha256/$md"
                [ "$i" -gt 0 ] && echo , >>"$w/index"
                printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"img%03d"}}\n' \
                        "$md" "$ms" "$i" >>"$w/index"
        done
        echo ']}' >>"$w/index"
        jq -c . "$w/index" >"$d/index.json"
        rm -rf "$w"
}

section_store() {
        local n first=${store_counts%% *} last=${store_counts##* } r t
        log "6. store: list and gc with $store_counts exited pods, $images images"
        rocket gc --grace-period=0 >/dev/null 2>&1 || true
        # $first real one-shot pods; the rest are clones of one of them.
        for ((r = 0; r < first; r++)); do
                rocket run --name "real$r" --exec /bin/true "$img" >/dev/null
        done
        local tmpl=$fx/pod-template
        rm -rf "$tmpl"
        cp -a --sparse=always "$(find "$ROCKET_DIR/pods/run" -mindepth 1 -maxdepth 1 | head -n1)" "$tmpl"
        for n in $store_counts; do
                clone_pods "$tmpl" $(( n - $(pod_count) ))
                bench_interleave "$runs" "list-$n" "rocket list --no-legend"
                grep -c . "$BENCH_DATA/list-$n.out" >"$BENCH_DATA/list-$n.lines" || true
        done
        for n in $store_counts; do
                local what="\`rocket list\` with $n exited pods" target=""
                [ "$n" = 1000 ] && target="≤ 150 ms: $(verdict "$(bench_stats "$BENCH_DATA/list-$n.us" | cut -d' ' -f1)" 150000)"
                [ "$(cat "$BENCH_DATA/list-$n.lines")" = "$n" ] || what="$what (listed $(cat "$BENCH_DATA/list-$n.lines")!)"
                timing_row 6 "$what" "list-$n" "" "$target" >/dev/null
        done
        row 6 "\`rocket list\` growth $first → $last pods" \
                "$(ratios "list-$last" "list-$first":"")" "" "" "" ""
        # gc: each run removes everything, so each run gets fresh clones.
        for n in $store_counts; do
                : >"$BENCH_DATA/gc-$n.us"
                echo 0 >"$BENCH_DATA/gc-$n.fail"
                for ((r = 0; r < gc_runs; r++)); do
                        rocket gc --grace-period=0 >/dev/null 2>&1 || true
                        clone_pods "$tmpl" "$n"
                        sync
                        bench_time "gc-$n" "rocket gc --grace-period=0" ||
                                echo $(( $(cat "$BENCH_DATA/gc-$n.fail") + 1 )) >"$BENCH_DATA/gc-$n.fail"
                        t=$(pod_count)
                        [ "$t" -eq 0 ] || note "gc with $n pods left $t pod directories"
                done
                target=
                [ "$n" = 1000 ] && target="≤ 1 s: $(verdict "$(bench_stats "$BENCH_DATA/gc-$n.us" | cut -d' ' -f1)" 1000000)"
                timing_row 6 "\`rocket gc --grace-period=0\` of $n exited pods" "gc-$n" "" "$target" >/dev/null
        done
        local growth
        growth=$(awk -v a="$(bench_stats "$BENCH_DATA/gc-$last.us" | cut -d' ' -f1)" \
                -v b="$(bench_stats "$BENCH_DATA/gc-$first.us" | cut -d' ' -f1)" 'BEGIN { if (b > 0) print a / b }')
        row 6 "\`rocket gc\` growth $first → $last pods" "$(ratios "gc-$last" "gc-$first":"")" "" "" "" \
                "$([ -n "$growth" ] && echo "≤ 20×: $(verdict "$growth" 20)")"

        # Images: N distinct small images (busybox + a layer of their own) fetched one by one.
        many_images "$images"
        bench_interleave "$runs" "images-1" "rocket image list --no-legend"
        : >"$BENCH_DATA/fetch-small.us"
        for ((r = 0; r < images; r++)); do
                bench_time fetch-small "rocket fetch --name=many:$r oci:$fx/many:$(printf 'img%03d' "$r")" ||
                        note "fetch of image $r failed: $(tail -n1 "$BENCH_DATA/fetch-small.out")"
        done
        head -n 10 "$BENCH_DATA/fetch-small.us" >"$BENCH_DATA/fetch-first.us"
        tail -n 10 "$BENCH_DATA/fetch-small.us" >"$BENCH_DATA/fetch-last.us"
        bench_interleave "$runs" "images-$images" "rocket image list --no-legend"
        local listed
        listed=$(grep -c . "$BENCH_DATA/images-$images.out" || true)
        timing_row 6 "\`rocket image list\` with 1 image" images-1 >/dev/null
        timing_row 6 "\`rocket image list\` with $((images + 1)) images (listed $listed)" "images-$images" \
                "$(ratios "images-$images" images-1:"vs 1 image")" >/dev/null
        timing_row 6 "\`rocket fetch\` of a small image: the first 10 of $images" fetch-first >/dev/null
        timing_row 6 "\`rocket fetch\` of a small image: the last 10 of $images" fetch-last \
                "$(ratios fetch-last fetch-first:"the first 10")" >/dev/null
        bench_interleave "$runs" "run-many" "rocket run --net=host --exec /bin/true $img"
        timing_row 6 "\`rocket run --net=host --exec /bin/true\` with $((images + 1)) images in the store" run-many \
                "$(ratios run-many rocket:"with 1 image (section 1)")" >/dev/null
        rocket gc --grace-period=0 >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------------
# 7. Apps of a running sandbox pod (rocket app add + start, stop): no pod boot involved. The peer is podman's
# container in a running pod (run -d --pod, stop -t 10). Both run the same shell that exits on SIGTERM (as
# PID 1 of podman's container, a bare sleep would ignore it and stop would wait out its 10 s).
app_cmd=(/bin/sh -c 'trap "exit 0" TERM; sleep 1000 & wait')

app_seq=0
# The commands take the next app's name from a counter: each run adds a new app, stops the one it started.
app_add_start() {
        app_seq=$((app_seq + 1))
        rocket app add benchsb "$img" --name="a$app_seq" --exec "${app_cmd[0]}" -- "${app_cmd[@]:1}" &&
                rocket app start benchsb --app="a$app_seq"
}
app_stop() {
        rocket app stop benchsb --app="a$app_seq"
}
podman_seq=0
podman_add_start() {
        podman_seq=$((podman_seq + 1))
        podman run -d --pod benchpod --name="p$podman_seq" ${podman_opts[*]} "$pimg" "${app_cmd[@]}"
}
podman_stop() {
        podman stop -t 10 "p$podman_seq"
}

section_apps() {
        local s r
        log "7. apps of a running sandbox, $runs runs each"
        systemd-run --unit=bench-sandbox --collect -q -E ROCKET_DIR="$ROCKET_DIR" rocket app sandbox --net=host --name=benchsb
        wait_until "rocket status --wait-ready=1s benchsb >/dev/null 2>&1" 30
        # No infra container: its pause image would come from a registry.
        podman pod create --name benchpod --infra=false >/dev/null
        # Each add is measured with the stop of the app before it in between, as a user would go.
        BENCH_WARMUP=0 bench_interleave "$runs" app-add "app_add_start" podman-add "podman_add_start"
        s=$(bench_stats "$BENCH_DATA/app-add.us")
        r="≤ 100 ms: FAIL (not measured)"
        [ -n "$s" ] && r="≤ 100 ms: $(verdict "${s%% *}" 100000)"
        timing_row 7 "\`rocket app add\` + \`rocket app start\` of a busybox app into a running sandbox" app-add \
                "$(ratios app-add podman-add:"podman run -d --pod")" "$r" >/dev/null
        timing_row 7 "peer: \`podman run -d --pod\` into a running pod (no infra container)" podman-add >/dev/null
        # Stop: the app exits on SIGTERM.
        : >"$BENCH_DATA/app-stop.us"
        : >"$BENCH_DATA/podman-stop.us"
        bench_interleave "$runs" app-stop "app_add_start >/dev/null && app_stop" \
                podman-stop "podman_add_start >/dev/null && podman_stop"
        # Those timed add + stop: the stop alone is the difference to the adds above.
        awk -v a="$(bench_stats "$BENCH_DATA/app-add.us" | cut -d' ' -f1)" '{ v = $1 - a; print (v > 0 ? v : 1) }' \
                "$BENCH_DATA/app-stop.us" >"$BENCH_DATA/app-stop-only.us"
        awk -v a="$(bench_stats "$BENCH_DATA/podman-add.us" | cut -d' ' -f1)" '{ v = $1 - a; print (v > 0 ? v : 1) }' \
                "$BENCH_DATA/podman-stop.us" >"$BENCH_DATA/podman-stop-only.us"
        echo 0 >"$BENCH_DATA/app-stop-only.fail"
        echo 0 >"$BENCH_DATA/podman-stop-only.fail"
        s=$(bench_stats "$BENCH_DATA/app-stop-only.us")
        r="≤ 100 ms: FAIL (not measured)"
        [ -n "$s" ] && r="≤ 100 ms: $(verdict "${s%% *}" 100000)"
        timing_row 7 "\`rocket app stop\` of an app that exits on SIGTERM (add + start + stop, less the add's median)" \
                app-stop-only "$(ratios app-stop-only podman-stop-only:"podman stop")" "$r" >/dev/null
        timing_row 7 "peer: \`podman stop -t 10\` (measured the same way)" podman-stop-only >/dev/null
        rocket stop benchsb >/dev/null
        podman pod rm -f benchpod >/dev/null 2>&1 || true
        wait_until "! systemctl is-active -q bench-sandbox" 30
        rocket gc --grace-period=0 >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------------

# Whatever a failed section left running: our pods, podman containers, nspawn machines.
cleanup_section() {
        local running
        running=$(rocket list --no-legend 2>/dev/null | awk '$5 == "running" { print $2 }')
        [ -n "$running" ] && rocket stop $running >/dev/null 2>&1
        podman pod rm -f benchpod >/dev/null 2>&1 || true
        for m in ovhnspawn benchtree; do
                machinectl terminate "$m" >/dev/null 2>&1 || true
        done
        podman rm -a -f -t 0 >/dev/null 2>&1 || true
        sleep 1
        rocket gc --grace-period=0 >/dev/null 2>&1 || true
}

run_section() {
        local name=$1 rc
        set +e
        ( set -e; "$name" )
        rc=$?
        set -e
        if [ "$rc" -ne 0 ]; then
                log "$name failed (exit $rc)"
                row "-" "section ${name#section_} failed (exit $rc) — see bench/results/latest.log" "" "" "" "" ""
                cleanup_section
        fi
}

main() {
        local t0 sections=${BENCH_SECTIONS:-"latency ready overhead density import store apps"}
        t0=$(now_us)
        setup
        for s in $sections; do
                run_section "section_$s"
        done
        cleanup_section
        {
                echo "- rocket's data directory, podman's store and every image and tree are on $(findmnt -n -o FSTYPE --target "$disk") (a directory of this machine's disk bound into the throwaway host); the host's own /, /etc, /run and /var/log are tmpfs (systemd-nspawn --volatile=yes)."
                echo "- host inside: cgroup $(stat -fc %T /sys/fs/cgroup | sed 's/cgroup2fs/v2 (unified)/; s/tmpfs/v1 (hybrid)/'), systemd $(systemctl --version | awk 'NR == 1 { print $2 }'), $(podman --version 2>/dev/null), crun $(crun --version 2>/dev/null | awk 'NR == 1 { print $3 }'), skopeo $(skopeo --version | awk '{ print $3 }'), umoci $(umoci --version | awk '{ print $3 }')."
                echo "- runs: BENCH_RUNS=$runs (latency, list), memory $mem_runs, import $import_runs, gc $gc_runs; density $density; the whole run took $(fmt_ms $(( $(now_us) - t0 )))."
        } >>"$notes"
        {
                render_table
                echo
                echo "Notes:"
                echo
                cat "$notes"
        } >"$out/results.md"
}

main "$@"
