#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sandbox pods and their apps (rocket app …): a pod that runs with no apps, apps added, started, stopped and
# removed while it runs (two of them talking over the pod's localhost), what list, status, machinectl and
# the pod's mount table show, exec into an app, bad input, 20 concurrent adds, and nothing left after gc.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
sb_pid=
trap '[ -z "$sb_pid" ] || kill "$sb_pid" 2>/dev/null || true' EXIT

app_state() {   # app_state POD APP
        rocket app status --format=json "$1" --app="$2" | jq -r .state
}
pod_mounts() {  # the mount points in the pod's own mount namespace
        awk '{print $5}' "/proc/$(rocket status --format=json "$1" | jq -r .pid)/mountinfo"
}

# --- a sandbox: up with no apps, its UUID printed first, registered with machined ---------------------------
rocket app sandbox --name=sb --uuid-file-save="$fx/sb.uuid" --annotation=io.kubernetes.pod/name=web \
        --user-label=tier=front --user-label=tier=back --user-annotation='note=two words' >"$fx/sb.out" 2>"$fx/sb.err" &
sb_pid=$!
wait_until "[ -s $fx/sb.uuid ]"
rocket status --wait-ready=20s --uuid-file="$fx/sb.uuid" >/dev/null
uuid=$(cat "$fx/sb.uuid")
assert_eq "$uuid" "$(head -n1 "$fx/sb.out")"
machinectl show sb -p State | grep -qx State=running
assert_eq "" "$(rocket app list --no-legend sb)"
assert_eq true "$(rocket status --format=json sb | jq '.apps == []')"
# Its annotations and labels, as given (a later label of a name replaces the earlier one).
rocket status --format=json sb | jq -e '.annotations == {"io.kubernetes.pod/name": "web"} and
        .userLabels == {"tier": "back"} and .userAnnotations == {"note": "two words"}'
rocket status sb | grep -qx 'user-label-tier=back'
assert_fails_with 2 "invalid user label" rocket app sandbox --user-label='bad name=x'

# --- two apps added (created, not started), then started: they talk over the pod's localhost --------------
rocket app add sb "$img" --name=web --exec /bin/sh -- -c 'echo "hello from web" >/tmp/i.html; exec httpd -f -p 8080 -h /tmp'
rocket app add --name=cli sb "$img" --exec /bin/sh -- -c \
        'until wget -qO- http://127.0.0.1:8080/i.html; do sleep 0.1; done; exec sleep 1000'
assert_eq created "$(app_state sb web)"
assert_eq created "$(app_state sb cli)"
rocket app list sb | grep -E '^web +created +busybox:test'
rocket app start sb --app=web
rocket app start sb --app=cli
assert_eq running "$(app_state sb web)"
wait_until "rocket logs sb --app=cli 2>/dev/null | grep -q 'hello from web'"
rocket app status --format=json sb --app=cli | jq -e '.pid > 1 and .started > 0 and (.image | startswith("sha256:"))'
# machined shows the pod's units where its cgroups are in the hierarchy it reads (cgroup2).
unified=false
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && unified=true
! $unified || assert_in cli.service "$(machinectl status sb --no-pager)"
pod_mounts sb | grep -qx /opt/stage2/cli/rootfs
pod_mounts sb | grep -qx /opt/stage2/cli/rootfs/proc

# --- exec into an app: its files, its exit status passed back ----------------------------------------------
assert_eq "hello from web" "$(rocket app exec sb --app=web cat /tmp/i.html)"
# --set-env and --environment on add: the app's own wins.
rocket app add --set-env=A=set --set-env=B=set sb "$img" --name=envy --environment=B=own --exec /bin/sleep -- 1000
rocket app start sb --app=envy
assert_eq "set own" "$(rocket app exec sb --app=envy /bin/sh -c 'echo $A $B')"
rocket app rm --timeout=0 sb --app=envy
rc=0
rocket app exec sb --app=web /bin/sh -c 'exit 7' || rc=$?
assert_eq 7 "$rc"
assert_eq "" "$(echo data | rocket app exec sb --app=web cat)"
assert_eq data "$(echo data | rocket app exec -i sb --app=web cat)"

# --- stop one: its exit recorded, the other app and the pod unaffected ------------------------------------
rocket app stop sb --app=cli
assert_eq exited "$(app_state sb cli)"
rocket app status --format=json sb --app=cli | jq -e '.exitReason == "killed" and .exitStatus == 143 and .exitTime > 0'
assert_eq running "$(app_state sb web)"
machinectl show sb -p State | grep -qx State=running
# Started again, and stopped with --timeout=0 (SIGKILL at once).
rocket app start sb --app=cli
assert_eq running "$(app_state sb cli)"
rocket app stop --timeout=0 sb --app=cli
rocket app status --format=json sb --app=cli | jq -e '.exitReason == "killed" and .exitStatus == 137'

# --- an app that fails is recorded; the sandbox stays up ---------------------------------------------------
rocket app add sb "$img" --name=bad --exec /bin/sh -- -c 'exit 3'
rocket app start sb --app=bad
wait_until "[ \"\$(app_state sb bad)\" = exited ]"
rocket app status --format=json sb --app=bad | jq -e '.exitStatus == 3'
sleep 0.5
machinectl show sb -p State | grep -qx State=running
assert_eq running "$(app_state sb web)"

# --- rm: its mounts and unit gone, the name free again ------------------------------------------------------
n=$(rocket logs sb --app=cli | grep -c 'hello from web')
rocket app rm sb --app=cli
rocket app rm sb --app=bad
assert_not grep -q '^cli ' <<<"$(rocket app list --no-legend sb)"
assert_not_in /opt/stage2/cli "$(pod_mounts sb)"
[ ! -e "/var/lib/rocket/pods/run/$uuid/apps/cli" ]
! $unified || assert_not_in cli.service "$(machinectl status sb --no-pager)"
rocket app add sb "$img" --name=cli --exec /bin/sh -- -c 'wget -qO- http://127.0.0.1:8080/i.html; exec sleep 1000'
rocket app start sb --app=cli
wait_until "rocket logs sb --app=cli 2>/dev/null | grep -c 'hello from web' | grep -qx $((n + 1))"

# --- an app with a terminal, attached to in the sandbox; its output in the journal too --------------------
rocket app add sb "$img" --name=term --stdin=tty --stdout=tty --exec /bin/sh
rocket app start sb --app=term
out=$("$ROCKET_TEST_DIR/fixtures/pty-drive.py" 24 80 'send:echo in-term-$((40+2))\n' 'expect:in-term-42' \
        'send:\x10\x11' wait -- rocket attach sb --app=term)
assert_in "Detached from app term" "$out"
wait_until "rocket logs sb --app=term | grep -q in-term-42"
rocket app stop sb --app=term
rocket app rm sb --app=term

# --- an app with a read-only rootfs, added live ------------------------------------------------------------
rocket app add sb "$img" --name=ro --readonly-rootfs --exec /bin/sh -- -c 'touch /x 2>&1; sleep 1000'
rocket app start sb --app=ro
wait_until "rocket logs sb --app=ro | grep -q 'Read-only file system'"
rocket app rm --timeout=0 sb --app=ro

# --- an ACI added live: its unmatched mount point gets a new empty volume with the image's files copied up,
# its pre-start handler runs before it and its post-stop one after it ------------------------------------------
mkdir -p "$fx/aci"
rocket image render --rootfs-only "$img" "$fx/aci/rootfs" >/dev/null
mkdir -p "$fx/aci/rootfs/cache" && echo from-image >"$fx/aci/rootfs/cache/seed"
jq -n '{ acKind: "ImageManifest", acVersion: "0.8.11", name: "example.com/live",
         labels: [ { name: "os", value: "linux" }, { name: "arch", value: "amd64" } ],
         app: { exec: [ "/bin/sh", "-c", "cat /cache/seed /cache/pre; exec sleep 1000" ], user: "0", group: "0",
                mountPoints: [ { name: "cache", path: "/cache" } ],
                eventHandlers: [ { name: "pre-start", exec: [ "/bin/sh", "-c", "echo pre >/cache/pre" ] },
                                 { name: "post-stop", exec: [ "/bin/sh", "-c", "echo post >/cache/post" ] } ] } }' \
        >"$fx/aci/manifest"
tar -C "$fx/aci" --numeric-owner -cf "$fx/live.aci" manifest rootfs
rocket fetch --name=live:test "$fx/live.aci" >/dev/null
rocket app add sb live:test
assert_eq "$(rocket cat-manifest sb | jq -c '[.volumes[] | select(.name == "cache") | .kind]')" '["empty"]'
rocket app start sb --app=live
wait_until "rocket logs --no-prefix sb --app=live | grep -qx pre"
assert_eq "$(rocket logs --no-prefix sb --app=live)" "$(printf 'from-image\npre')"
rocket app stop sb --app=live
assert_eq "$(cat "$ROCKET_DIR/pods/run/$uuid/volumes/cache/post")" post
rocket app rm sb --app=live

# --- bad input: one line, non-zero, the pod and its apps untouched -----------------------------------------
assert_fails_with 254 "already" rocket app add sb "$img" --name=web --exec /bin/true
assert_fails_with 254 "has no app 'nope'" rocket app start sb --app=nope
assert_fails_with 254 "has no app 'nope'" rocket app rm sb --app=nope
assert_fails_with 2 "--app" rocket app start sb
assert_fails_with 254 "is running already" rocket app start sb --app=web
rocket app add sb "$img" --name=idle --exec /bin/true
assert_fails_with 254 "not running" rocket app stop sb --app=idle
assert_fails_with 254 "no-such-image" rocket app add sb no-such-image:1
assert_fails 254 rocket app add no-such-pod "$img"
assert_fails_with 2 "invalid app name" rocket app add sb "$img" --name=Bad_Name
assert_fails_with 254 "mutable-pods" rocket app sandbox --stage1-name=fly
rocket run --name=fixed "$img" --exec /bin/true
assert_fails_with 254 "not a sandbox" rocket app add fixed "$img"
assert_fails_with 254 "not a sandbox" rocket app list fixed
assert_eq running "$(app_state sb web)"
assert_eq running "$(app_state sb cli)"

# --- 20 concurrent adds: each one in or cleanly refused, the manifest whole ---------------------------------
for i in $(seq 1 20); do
        rocket app add sb "$img" --name="c$i" --exec /bin/sleep -- 1000 >"$fx/add$i.out" 2>&1 &
        pids+=" $!"
done
fails=0
for p in $pids; do wait "$p" || fails=$((fails + 1)); done
assert_eq 0 "$fails"
assert_eq 20 "$(rocket app list --format=json sb | jq '[.[] | select(.name | startswith("c") and . != "cli")] | length')"
rocket cat-manifest sb | jq -e '[.apps[].name] | length == 23'
rocket app start sb --app=c7
assert_eq running "$(app_state sb c7)"

# --- a .pod file without apps declares a sandbox -----------------------------------------------------------
printf '[Pod]\nHostname=sandbox-two\n' >"$fx/sb2.pod"
rocket run --pod="$fx/sb2.pod" >/dev/null 2>&1 &
sb2=$!
wait_until "rocket status --wait-ready=1s sb2 >/dev/null 2>&1"
rocket app add sb2 "$img" --name=h --exec /bin/hostname
rocket app start sb2 --app=h
wait_until "[ \"\$(app_state sb2 h)\" = exited ]"
wait_until "rocket logs --no-prefix sb2 --app=h | grep -qx sandbox-two"
rocket stop sb2 >/dev/null
wait "$sb2" || true

# --- --no-overlay: an app added later gets a copy of its image in its directory, written in place -----------
rocket app sandbox --name=sbnov --no-overlay >/dev/null 2>&1 &
sbnov=$!
wait_until "rocket status --wait-ready=1s sbnov >/dev/null 2>&1"
rocket app add sbnov "$img" --name=c --exec /bin/sh -- -c 'awk '"'"'$2 == "/" { print $3 }'"'"' /proc/self/mounts; echo in-place >/root/w'
# Nothing mounted for it in the pod shows up on the host (its copy is no peer of the host's mount).
assert_not_in "pods/run/$(rocket status --format=json sbnov | jq -r .uuid)/" "$(findmnt -rn -o TARGET)"
rocket app start sbnov --app=c
wait_until "[ \"\$(app_state sbnov c)\" = exited ]"
assert_not_in overlay "$(rocket logs --no-prefix sbnov --app=c)"
assert_eq in-place "$(cat "$ROCKET_DIR/pods/run/$(rocket status --format=json sbnov | jq -r .uuid)/apps/c/rootfs/root/w")"
rocket stop sbnov >/dev/null
wait "$sbnov" || true

# --- the pod stops; gc leaves nothing ---------------------------------------------------------------------
rocket stop sb
# Its apps were stopped cleanly or never started: the sandbox ends with 0.
rc=0
wait "$sb_pid" || rc=$?
sb_pid=
assert_eq 0 "$rc"
assert_eq exited "$(rocket status --format=json --uuid-file="$fx/sb.uuid" | jq -r .state)"
# A stopped sandbox takes no more changes; what it had is still listed.
assert_fails_with 254 "not running" rocket app add sb "$img" --name=late
assert_fails_with 254 "not running" rocket app start sb --app=web
rocket app list --no-legend sb | grep -q '^web '
assert_fails_with 254 "not running" rocket attach sb --app=web
rocket gc --grace-period=0
rocket gc --grace-period=0
[ ! -e "/var/lib/rocket/pods/run/$uuid" ]
[ ! -e "/var/lib/rocket/pods/exited-garbage/$uuid" ]
assert_not_in "$uuid" "$(findmnt -rn -o TARGET)"
assert_not machinectl show sb
