#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pods from the outside in: a one-shot pod prints its app's output and exits with its status, the pod's
# journal is readable from the host while it runs and after it exited, a two-app pod shares IPC and UTS
# but not its rootfs, volumes, prepare/run-prepared, and bad input leaves nothing behind.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup

pods_on_disk() { find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -type d | sort; }
rocket_mounts() { findmnt -rn -o TARGET | grep -c "^$ROCKET_DIR/pods" || true; }

# --- one app: its output on stdout, status 0, and the image's default command -------------------------
out=$(rocket run --name hello --exec /bin/echo "$img" -- hello from a pod)
assert_eq "$out" "hello from a pod"
out=$(rocket run --name greet "$img")
assert_in "Hello from pod greet: Linux" "$out"
st=$(rocket status hello)
assert_in "state=exited" "$st"
assert_in "app-busybox=0" "$st"
# The host reads the pod's journal after it exited (linked into /var/log/journal, as --link-journal does).
uuid=$(rocket status --format=json hello | jq -r .uuid)
mid=${uuid//-/}
[ -L "/var/log/journal/$mid" ]
assert_eq "$(journalctl -m _MACHINE_ID="$mid" -t busybox -o cat --no-pager)" "hello from a pod"
assert_eq "$(rocket logs --no-prefix hello)" "hello from a pod"
[[ "$(rocket logs hello)" =~ ^[A-Z][a-z]{2}\ [0-9]{2}\ [0-9:]{8}\ busybox:\ hello\ from\ a\ pod$ ]]
# And while the pod runs, through machined: journalctl -M.
rocket run --name chatty --exec /bin/sh "$img" -- -c 'echo chatty-says-hi; exec sleep 1000' >/dev/null 2>&1 &
wait_until "journalctl -M chatty -t busybox -o cat --no-pager 2>/dev/null | grep -cx chatty-says-hi >/dev/null"
rocket stop chatty
wait
assert_eq "$(journalctl -m _MACHINE_ID="$(rocket status --format=json chatty | jq -r .uuid | tr -d -)" -t busybox -o cat --no-pager)" chatty-says-hi

# --- exit status propagation, stdout and stderr, user and environment from the image ---------------
rc=0
out=$(rocket run --exec /bin/sh "$img" -- -c 'echo to-stdout; echo to-stderr >&2; exit 7' 2>/dev/null) || rc=$?
assert_eq "$rc" 7
assert_in "to-stdout" "$out"
assert_in "to-stderr" "$out"
# The environment in rkt's order: --inherit-env < the image's < --set-env-file < --set-env < --environment.
printf 'A=file\nB=file\n# a comment\n\n  C=file\nPATH=/from/file\n' >"$fx/env"
out=$(FROM_HOST=host A=host PATH="/from/host:$PATH" rocket run --inherit-env --set-env-file="$fx/env" --set-env=B=set \
        "$img" --environment=C=app --exec /bin/sh -- -c 'echo "$FROM_HOST $A $B $C $PATH"')
assert_eq "$out" "host file set app /from/file"
out=$(FROM_HOST=host rocket run --set-env-file="$fx/env" "$img" --exec /bin/sh -- -c 'echo "[$FROM_HOST] $PATH"')
assert_eq "$out" "[] /from/file"
printf 'OK=1\nnot an assignment\n' >"$fx/bad.env"
assert_fails 2 rocket run --set-env-file="$fx/bad.env" "$img" --exec /bin/true
assert_fails_with 254 "cannot read environment file" rocket run --set-env-file="$fx/missing.env" "$img" --exec /bin/true
out=$(rocket run --set-env=GREETING=hi --user=app --exec /bin/sh "$img" -- -c 'echo "$(id -u):$(id -g):$(id -G):$GREETING:$HOME:$PATH"; pwd')
assert_in "1000:1000:1000 50:hi:/home/app:/usr/sbin:/usr/bin:/sbin:/bin" "$out"
out=$(rocket run --user=app:staff --exec /bin/sh "$img" -- -c 'echo "$(id -u):$(id -g)"; id -G')
assert_eq "$out" "$(printf '1000:50\n50')"
# A user or group the image does not have: the app fails, saying which.
out=$(rocket run --user=nobody-here --exec /bin/true "$img" 2>&1) && false
assert_in "user 'nobody-here' is not in the image's /etc/passwd" "$out"
out=$(rocket run --user=app --group=wheel --exec /bin/true "$img" 2>&1) && false
assert_in "group 'wheel' is not in the image's /etc/group" "$out"
out=$(rocket run --working-dir=/tmp --exec /bin/pwd "$img")
assert_eq "$out" /tmp
# The pod's own hostname, /etc/hosts and resolv.conf.
out=$(rocket run --name hn --hostname=pod-host --exec /bin/sh "$img" -- -c 'hostname; grep -c pod-host /etc/hosts; test -f /etc/resolv.conf && echo resolv')
assert_eq "$out" "$(printf 'pod-host\n1\nresolv')"

# --- two apps: one serves, one polls; they share IPC and UTS, each has its own rootfs ---------------
rocket run --name duo --hostname=duo-host \
        "$img" --name server --exec /bin/sh -- -c 'touch /only-in-server;
                echo "ns $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts)";
                exec httpd -f -p 127.0.0.1:18080 -h /var/www' --- \
        "$img" --name client --exec /bin/sh -- -c 'for i in $(seq 100); do wget -q -O - http://127.0.0.1:18080/ && break; sleep 0.1; done;
                echo "ns $(readlink /proc/self/ns/ipc) $(readlink /proc/self/ns/uts)";
                test ! -e /only-in-server && echo "no server files here"; hostname; exit 0' >"$fx/duo.out" 2>&1 &
wait_until "rocket status duo 2>/dev/null | grep -c app-client=0 >/dev/null"
rocket stop duo
wait
st=$(rocket status duo)
assert_in "app-client=0" "$st"
assert_in "app-server=143" "$st"
j=$(journalctl -m _MACHINE_ID="$(rocket status --format=json duo | jq -r .uuid | tr -d -)" -o cat --no-pager -t server -t client)
assert_eq "$(rocket logs --no-prefix --app=client duo | grep -c '^ns ')" 1
assert_fails 254 rocket logs --app=nope duo
assert_in "hello from the busybox image" "$j"
assert_in "no server files here" "$j"
assert_in "duo-host" "$j"
[ "$(grep '^ns ' <<<"$j" | sort -u | wc -l)" -eq 1 ]       # same IPC and UTS namespaces
[ "$(grep -c '^ns ' <<<"$j")" -eq 2 ]
[ "$(rocket status --format=json duo | jq '[.apps[].exitStatus] | sort')" = "$(printf '[\n  0,\n  143\n]')" ]
# rocket run prints each app's lines with its name when there are several (and not with one, above).
assert_in "client: no server files here" "$(cat "$fx/duo.out")"
assert_in "server: ns " "$(cat "$fx/duo.out")"
# Options after the pod, as journalctl takes them; the JSON exit fields say how each app ended.
assert_eq "$(rocket logs duo --app=client -n 1 --no-prefix)" duo-host
assert_eq "$(rocket status --format=json duo | jq -c '[.apps[] | {name, exitReason, exitCode, signal}] | sort_by(.name)')" \
        '[{"name":"client","exitReason":"exited","exitCode":0,"signal":null},{"name":"server","exitReason":"killed","exitCode":null,"signal":"TERM"}]'


# --- volumes: a host directory and an empty one, read-only where asked ----------------------------
vol=$(mktemp -d)
echo from-host >"$vol/in"
out=$(rocket run --volume data,kind=host,source="$vol" --volume ro,kind=host,source="$vol",readOnly=true \
        --volume scratch,kind=empty --mount volume=scratch,target=/scratch \
        --exec /bin/sh "$img" --mount volume=data,target=/data --mount volume=ro,target=/ro -- \
        -c 'cat /data/in; echo written >/data/out; { echo x >/ro/fail; } 2>/dev/null || echo read-only; echo s >/scratch/s && echo scratch')
assert_eq "$out" "$(printf 'from-host\nread-only\nscratch')"
assert_eq "$(cat "$vol/out")" written
[ ! -e "$vol/fail" ]
# An empty volume for a user of the image: rkt's mode=, uid=, gid=.
out=$(rocket run --volume shared,kind=empty,mode=0770,uid=1000,gid=1000 --user=app --exec /bin/sh "$img" \
        --mount volume=shared,target=/shared -- -c 'echo ok >/shared/f && stat -c "%a %u:%g" /shared && cat /shared/f')
assert_eq "$out" "$(printf '770 1000:1000\nok')"
assert_fails 2 rocket run --volume shared,kind=empty,mode=999 "$img"
assert_fails 2 rocket run --volume h,kind=host,source=/tmp,uid=5 "$img"

# --- prepare, run-prepared, cat-manifest -----------------------------------------------------------
u=$(rocket prepare --quiet --name prep --exec /bin/echo "$img" -- prepared-ok)
[[ "$u" =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]]
assert_in "state=prepared" "$(rocket status prep)"
assert_fails_with 254 "has not started" timeout 20 rocket status --wait=1s prep    # --wait's limit holds before the start too
assert_eq "$(rocket cat-manifest prep | jq -r '.apps[0].exec | join(" ")')" "/bin/echo prepared-ok"
assert_eq "$(rocket run-prepared "${u:0:8}")" prepared-ok
assert_in "state=exited" "$(rocket status "$u")"
assert_fails 254 rocket run-prepared prep

# --- bad input: one line, non-zero, nothing left behind --------------------------------------------
before=$(pods_on_disk)
m_before=$(rocket_mounts)
assert_fails 254 rocket run no-such-image
assert_fails 254 rocket run ./no-such-file.aci
assert_fails 254 rocket status no-such-pod
assert_fails 254 rocket enter no-such-pod
assert_fails 254 rocket run "$img" --- "$img"                              # two apps named busybox
assert_fails 2 rocket run --volume v,kind=empty --mount volume=v,target=../etc "$img"
assert_fails 2 rocket run --volume v,kind=empty --mount volume=nope,target=/x "$img"
assert_fails 254 rocket run --volume v,kind=host,source=/no/such/dir --mount volume=v,target=/x "$img"
assert_fails 2 rocket run --name Not_Valid "$img"
assert_fails 2 rocket run --frobnicate "$img"
rc=0
out=$(rocket run --exec /no/such/binary "$img" 2>&1) || rc=$?
assert_eq "$rc" 127
assert_in "cannot execute /no/such/binary: No such file or directory" "$out"
# A host volume swapped for a symlink between prepare and run is refused, not followed.
mkdir -p "$fx/vol-src"
u=$(rocket prepare --quiet --name swapped --volume v,kind=host,source="$fx/vol-src" --exec /bin/true "$img" \
        --mount volume=v,target=/v)
mv "$fx/vol-src" "$fx/vol-real"
ln -s /etc "$fx/vol-src"
assert_fails_with 254 "is a symbolic link now" rocket run-prepared "$u"
rocket rm "$u" >/dev/null 2>&1 || true
rocket run --name busy --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
wait_until "rocket status busy 2>/dev/null | grep -c state=running >/dev/null"
assert_fails 254 rocket run --name busy "$img"                             # name in use
assert_fails 254 rocket rm busy                                            # still running
rocket stop busy
wait
after=$(pods_on_disk)
# Only the pods that really ran were added (the failed --exec one and busy); nothing half-made.
[ "$(comm -13 <(echo "$before") <(echo "$after") | wc -l)" -eq 2 ]
assert_eq "$(rocket_mounts)" "$m_before"

# --- gc removes every exited pod: no directory, mount, machine, journal link or scope remains -------
rocket gc --grace-period=0
assert_eq "$(pods_on_disk)" ""
assert_eq "$(rocket list --no-legend)" ""
assert_eq "$(rocket_mounts)" 0
assert_eq "$(find /var/log/journal -maxdepth 1 -type l | wc -l)" 0
machinectl list --no-pager | grep -c "No machines." >/dev/null
[ -z "$(systemctl list-units --all --plain --no-legend 'machine-*' | grep -v '^$' || true)" ]
# On hosts whose systemd does not track in cgroup2, the pods' cgroup2 subtrees are gone too.
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
        d=$(mktemp -d)
        # (Only this test's pods: the cgroup2 hierarchy is shared with whatever else runs on the machine.)
        unshare -m sh -c "mount -t cgroup2 none '$d' && ! ls '$d/machine.slice' 2>/dev/null |
                grep -qE '^machine-(hello|greet|chatty|duo|hn|busy|prep)\.scope$'"
        rmdir "$d"
fi

# --- the app is named after the reference typed, whatever other names the image has -----------------
rocket fetch --name=zz-later:latest "oci:$fx/busybox:latest" >/dev/null
rocket run --name=named --exec /bin/true busybox:test
assert_in "app-busybox=0" "$(rocket status named)"
rocket image rm zz-later:latest >/dev/null

# --- README's pod examples, as written ---------------------------------------------------------------
rm -rf /var/tmp/busybox /srv/www
bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" /var/tmp/busybox
rocket fetch oci:/var/tmp/busybox:latest >/dev/null
assert_in "Hello from pod" "$(rocket run busybox:latest)"
mkdir -p /srv/www && echo hello >/srv/www/index.html
rocket run --name=web --volume=www,kind=host,source=/srv/www,readOnly=true \
        busybox:latest --name=server --mount=volume=www,target=/srv/www --exec=/bin/httpd -- -f -p 8080 -h /srv/www \
        --- busybox:latest --name=poller --exec=/bin/sh -- -c 'while :; do wget -qO- localhost:8080; sleep 5; done' \
        >"$fx/web.out" 2>&1 &
wait_until "grep -q 'poller: hello' '$fx/web.out'"
rocket stop web >/dev/null
wait
rocket gc --grace-period=0 >/dev/null
rocket image rm busybox:latest >/dev/null
rm -rf /var/tmp/busybox /srv/www

# --- pod names are machine names: what machined takes, rocket takes ---------------------------------
rocket run --name=Web-2.example --exec /bin/true "$img"
assert_in "state=exited" "$(rocket status Web-2.example)"
assert_fails_with 2 "a machine name" rocket run --name=my_app --exec /bin/true "$img"
rocket gc --grace-period=0 >/dev/null

# --- appc's rule for ACIs: a pod volume reaches the image's mount point of the same name without --mount
# (read-only as the image declares it); a --mount at that path wins --------------------------------------
mkdir -p "$fx/mpaci"
rocket image render --rootfs-only busybox:test "$fx/mpaci/rootfs" >/dev/null
cat >"$fx/mpaci/manifest" <<'M'
{ "acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/mountpoints",
  "labels": [ { "name": "os", "value": "linux" }, { "name": "arch", "value": "amd64" } ],
  "app": { "exec": [ "/bin/sh", "-c", "grep ' /data ' /proc/self/mounts | cut -d' ' -f4 | cut -d, -f1; touch /data/x 2>&1 || true" ],
           "user": "0", "group": "0",
           "mountPoints": [ { "name": "data", "path": "/data", "readOnly": true } ] } }
M
tar -C "$fx/mpaci" --numeric-owner -cf "$fx/mp.aci" manifest rootfs
rocket fetch --name=mountpoints:test "$fx/mp.aci" >/dev/null
out=$(rocket run --volume data,kind=empty mountpoints:test)
assert_in ro "$out"
assert_in "Read-only file system" "$out"
out=$(rocket run --volume data,kind=empty --volume other,kind=empty mountpoints:test --mount volume=other,target=/data)
assert_eq rw "$out"
rocket gc --grace-period=0 >/dev/null

# --- a mount point no volume matches gets an empty volume of its name, the image's files copied up into it
# (owner and mode too); two apps of the pod share it, the first one's copy is the one --------------------
mkdir -p "$fx/cuaci/rootfs"
cp -a "$fx/mpaci/rootfs/." "$fx/cuaci/rootfs/"
mkdir -p "$fx/cuaci/rootfs/srv/cache"
echo from-image >"$fx/cuaci/rootfs/srv/cache/seed"
ln -s seed "$fx/cuaci/rootfs/srv/cache/link"
chown -R 1234:1235 "$fx/cuaci/rootfs/srv/cache"
chmod 0750 "$fx/cuaci/rootfs/srv/cache"
cat >"$fx/cuaci/manifest" <<'M'
{ "acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/copyup",
  "labels": [ { "name": "os", "value": "linux" }, { "name": "arch", "value": "amd64" } ],
  "app": { "exec": [ "/bin/sh", "-c", "cat /srv/cache/link; stat -c '%u:%g %a' /srv/cache; echo \"$AC_APP_NAME\" >>/srv/cache/seen; grep -c ' /srv/cache ' /proc/self/mounts" ],
           "user": "0", "group": "0",
           "mountPoints": [ { "name": "cache", "path": "/srv/cache" } ] } }
M
tar -C "$fx/cuaci" --numeric-owner -cf "$fx/cu.aci" manifest rootfs
rocket fetch --name=copyup:test "$fx/cu.aci" >/dev/null
out=$(rocket run --name=copyup copyup:test)
assert_eq "$out" "$(printf 'from-image\n1234:1235 750\n1')"
uuid=$(rocket status --format=json copyup | jq -r .uuid)
assert_eq "$(rocket cat-manifest copyup | jq -c '.volumes[] | select(.name == "cache") | .kind')" '"empty"'
vol=$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/volumes/cache
assert_eq "$(cat "$vol/seed" "$vol/seen")" "$(printf 'from-image\ncopyup')"
[ -L "$vol/link" ]
# Two apps with the same mount point: one volume, copied up once, written by both.
rocket run --name=copyup2 copyup:test --name=one --- copyup:test --name=two >/dev/null
uuid=$(rocket status --format=json copyup2 | jq -r .uuid)
vol=$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/volumes/cache
assert_eq "$(sort "$vol/seen" | tr '\n' ' ')" "one two "
assert_eq "$(rocket cat-manifest copyup2 | jq '[.volumes[] | select(.name == "cache")] | length')" 1
# An explicit volume of that name wins: nothing copied into it.
out=$(rocket run --volume cache,kind=empty copyup:test 2>&1 || true)
assert_in "No such file or directory" "$out"
rocket gc --grace-period=0 >/dev/null

# --- ACI event handlers: pre-start runs in the app's rootfs before it (its failure is the app's), post-stop
# after it, whatever its end; the image's annotations in the pod's status ----------------------------------
evh_image() {   # NAME PRE-START-SCRIPT APP-SCRIPT
        mkdir -p "$fx/evh-$1"
        cp -a "$fx/mpaci/rootfs" "$fx/evh-$1/"
        jq -n --arg n "example.com/evh-$1" --arg pre "$2" --arg app "$3" '
          { acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
            labels: [ { name: "os", value: "linux" }, { name: "arch", value: "amd64" } ],
            annotations: [ { name: "authors", value: "rocket tests" }, { name: "bad name", value: "left out" } ],
            app: { exec: [ "/bin/sh", "-c", $app ], user: "0", group: "0",
                   mountPoints: [ { name: "out", path: "/out" } ],
                   eventHandlers: [ { name: "pre-start", exec: [ "/bin/sh", "-c", $pre ] },
                                    { name: "post-stop", exec: [ "/bin/sh", "-c", "echo post-stop saw $(cat /out/log | tr \"\\n\" \" \") >>/out/log" ] } ] } }' \
          >"$fx/evh-$1/manifest"
        tar -C "$fx/evh-$1" --numeric-owner -cf "$fx/evh-$1.aci" manifest rootfs
        rocket fetch --name="evh-$1:test" "$fx/evh-$1.aci" >/dev/null
}
evh_image ok 'echo "pre-start as $(id -u) in $AC_APP_NAME" >/out/log; touch /pre-ran' '[ -e /pre-ran ] && echo app >>/out/log; exit 3'
evh_image fail 'echo pre-start-failing >/out/log; exit 5' 'echo app-ran >>/out/log'
rc=0; rocket run --name=evh evh-ok:test || rc=$?
assert_eq "$rc" 3
uuid=$(rocket status --format=json evh | jq -r .uuid)
vol=$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/volumes/out
assert_eq "$(cat "$vol/log")" "$(printf 'pre-start as 0 in evh-ok\napp\npost-stop saw pre-start as 0 in evh-ok app')"
assert_eq "$(rocket cat-manifest evh | jq -c '.apps[0] | [.preStart[0], .postStop[0]]')" '["/bin/sh","/bin/sh"]'
assert_eq "$(rocket status --format=json evh | jq -c '.apps[0].annotations')" '{"authors":"rocket tests"}'
rc=0; rocket run --name=evhfail evh-fail:test || rc=$?
assert_eq "$rc" 1       # the app never ran: recorded as failed with 1 (the handler's own status is in the journal)
assert_in "app-evh-fail=1" "$(rocket status evhfail)"
uuid=$(rocket status --format=json evhfail | jq -r .uuid)
vol=$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/volumes/out
assert_eq "$(cat "$vol/log")" "$(printf 'pre-start-failing\npost-stop saw pre-start-failing')"
assert_fails_with 254 "pre-start or post-stop event handler" rocket run --stage1-name=fly evh-ok:test
rocket gc --grace-period=0 >/dev/null

# --- export: an exited pod's app as an ACI of its root as the app left it (files added and removed), which
# runs again as it ran; running pods, several apps without --app and an existing file are refused -----------
rocket run --name=exp --exec /bin/sh --set-env=EXPORTED=yes "$img" -- \
        -c 'echo made-in-pod >/root/new; rm -r /home/app; echo "$EXPORTED"'
rocket export exp "$fx/exp.aci"
tar -tf "$fx/exp.aci" >"$fx/exp.list"
grep -qx rootfs/root/new "$fx/exp.list"
grep -qE '^rootfs/home/?$' "$fx/exp.list"
assert_not grep -q '^rootfs/home/app' "$fx/exp.list"
grep -qx rootfs/bin/busybox "$fx/exp.list"
assert_eq "$(tar -xOf "$fx/exp.aci" manifest | jq -c '[.acKind, .app.exec[0], (.app.environment[] | select(.name == "EXPORTED") | .value)]')" \
        '["ImageManifest","/bin/sh","yes"]'
assert_eq "$(tar -xOf "$fx/exp.aci" rootfs/root/new)" made-in-pod
assert_fails_with 254 "exists; use --overwrite" rocket export exp "$fx/exp.aci"
rocket export --overwrite exp "$fx/exp.aci"
rocket fetch --insecure-options=image --name=exported:test "$fx/exp.aci" >/dev/null
assert_eq "$(rocket run exported:test --exec /bin/cat -- /root/new)" made-in-pod
rocket run --name=exp2 "$img" --name=a --exec /bin/true --- "$img" --name=b --exec /bin/true
assert_fails_with 2 "has apps a, b; choose one with --app=" rocket export exp2 "$fx/two.aci"
rocket export --app=b exp2 "$fx/two.aci"
assert_fails_with 254 "has no app 'c'" rocket export --app=c exp2 "$fx/three.aci"
rocket run --name=exp-running --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show exp-running >/dev/null 2>&1"
assert_fails_with 254 "is running; export takes a pod that has exited" rocket export exp-running "$fx/run.aci"
[ ! -e "$fx/run.aci" ]
[ ! -e "$fx/run.aci.rocket-export" ]
rocket stop exp-running >/dev/null
wait
assert_fails_with 254 "No pod" rocket export no-such-pod "$fx/x.aci"
rocket gc --grace-period=0 >/dev/null

# --- --no-overlay: the app's image copied into its pod directory, a later layer's whiteouts applied (a file
# gone, a directory made opaque), no overlayfs under it, written in place and exported from there; fly too --
bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/nov-base" >/dev/null
mkdir -p "$fx/nov-layer/etc" "$fx/nov-layer/home"
: >"$fx/nov-layer/etc/.wh.group"
: >"$fx/nov-layer/home/.wh..wh..opq"
echo layered >"$fx/nov-layer/home/new"
cat >"$fx/nov-layer/check.sh" <<'S'
awk '$2 == "/" { print $3 }' /proc/self/mounts
ls /home
test -e /etc/group || echo no-group
echo in-place >/root/w
S
python3 "$ROCKET_TEST_DIR/fixtures/oci-derive.py" add-dir "$fx/nov-base" "$fx/nov" "$fx/nov-layer" '["/bin/sh", "/check.sh"]'
rocket fetch --name=nov:test "oci:$fx/nov:latest" >/dev/null
assert_eq "$(rocket run --name=ov nov:test)" "$(printf 'overlay\nnew\nno-group')"
out=$(rocket run --name=nov --no-overlay nov:test)
assert_eq "$(sed 1d <<<"$out")" "$(printf 'new\nno-group')"
assert_not_in overlay "$(head -n1 <<<"$out")"
assert_eq "$(rocket cat-manifest nov | jq .noOverlay)" true
uuid=$(rocket status --format=json nov | jq -r .uuid)
assert_eq "$(cat "$(find "$ROCKET_DIR/pods" -mindepth 2 -maxdepth 2 -name "$uuid")/apps/nov/rootfs/root/w")" in-place
rocket export nov "$fx/nov.aci"
assert_eq "$(tar -xOf "$fx/nov.aci" rootfs/root/w)" in-place
assert_eq "$(rocket run --stage1-name=fly --no-overlay nov:test | sed 1d)" "$(printf 'new\nno-group')"
rocket gc --grace-period=0 >/dev/null

# --- rkt's configuration: stage1.d's default stage1 (rkt's image names taken), paths.d's data directory,
# rocket config with dockerAuth users but no passwords; --stage1-from-dir; a broken file stops every verb ------
stage1_of() { rocket cat-manifest "$1" | jq -r .stage1; }
mkdir -p /etc/rocket/stage1.d /etc/rocket/paths.d /etc/rocket/auth.d
echo '{ "rktKind": "stage1", "rktVersion": "v1", "name": "coreos.com/rkt/stage1-fly", "version": "1.30.0" }' \
        >/etc/rocket/stage1.d/fly.json
echo '{ "rktKind": "dockerAuth", "rktVersion": "v1", "registries": [ "registry.example" ],
        "credentials": { "user": "cfg-user", "password": "cfg-secret" } }' >/etc/rocket/auth.d/cfg.json
rocket run --name=cfg-default --exec /bin/true "$img"
[[ "$(stage1_of cfg-default)" == */stage1-fly ]]
rocket run --name=cfg-coreos --stage1-name=coreos.com/rkt/stage1-coreos:1.30.0 --exec /bin/true "$img"
[[ "$(stage1_of cfg-coreos)" == */stage1-systemd ]]
rocket run --name=cfg-fromdir --stage1-from-dir=stage1-systemd.aci --exec /bin/true "$img"
[[ "$(stage1_of cfg-fromdir)" == */stage1-systemd ]]
assert_fails_with 2 "exclude each other" rocket run --stage1-name=fly --stage1-from-dir=stage1-fly "$img"
# --stage1-hash: an installed stage1 by (a prefix of) the ID rocket version prints for it.
sd_id=$(ROCKET_STAGE1_PATH="$(dirname "$(stage1_of cfg-coreos)")/stage1-systemd" rocket version | sed -n 's/^Default stage1 ID: //p')
[[ "$sd_id" =~ ^sha256:[0-9a-f]{64}$ ]]
rocket run --name=cfg-hash --stage1-hash="${sd_id:0:19}" --exec /bin/true "$img"
[[ "$(stage1_of cfg-hash)" == */stage1-systemd ]]
assert_fails_with 254 "No stage1 installed in" rocket run --stage1-hash=sha256:00000000 --exec /bin/true "$img"
assert_fails_with 2 "Invalid stage1 ID" rocket run --stage1-hash=abc --exec /bin/true "$img"
assert_fails_with 254 "No stage1 at" rocket run --stage1-from-dir=stage1-nothere "$img"
cfg=$(rocket config)
assert_eq "$(jq -c '.stage0[1] | [.name, .version]' <<<"$cfg")" '["coreos.com/rkt/stage1-fly","1.30.0"]'
assert_eq "$(jq -c '.stage0[2] | [.registries, .credentials]' <<<"$cfg")" '[["registry.example"],{"user":"cfg-user"}]'
[[ "$cfg" != *cfg-secret* ]]
[[ "$(rocket version | grep '^Default stage1: ')" == */stage1-fly ]]
echo '{ "rktKind": "paths", "rktVersion": "v1", "data": "/var/lib/rocket-cfg" }' >/etc/rocket/paths.d/data.json
data_dir() { rocket "$@" version | sed -n 's/^Data directory: //p'; }
assert_eq "$(ROCKET_DIR= data_dir)" /var/lib/rocket-cfg
assert_eq "$(data_dir)" "$ROCKET_DIR"                                 # $ROCKET_DIR wins, --dir over both
assert_eq "$(data_dir --dir=/srv/x)" /srv/x
env -u ROCKET_DIR rocket fetch --name=cfg:test "oci:$fx/nov-base:latest" >/dev/null
[ -d /var/lib/rocket-cfg/store ]
echo '{ "rktKind": "paths", "rktVersion": "v1", "data": "/var/lib/other" }' >/etc/rocket/paths.d/more.json
assert_fails_with 254 '/etc/rocket/paths.d/more.json: "data" is set in /etc/rocket/paths.d/data.json already' rocket list
rm -rf /etc/rocket/stage1.d /etc/rocket/paths.d /etc/rocket/auth.d/cfg.json /var/lib/rocket-cfg
rocket gc --grace-period=0 >/dev/null

# --- an image that a pod uses outlives 'image rm' and 'image gc' until the pod is removed ------------
printf 'in use\n' >"$fx/inuse-marker"
bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/inuse" "$fx/inuse-marker"
id=$(rocket fetch --name=inuse:test "oci:$fx/inuse:latest")
rocket image tag inuse:test inuse:other >/dev/null
rocket run --name=inuse --exec /bin/sleep inuse:test -- 1000 >/dev/null 2>&1 &
wait_until "machinectl show inuse >/dev/null 2>&1"
assert_eq "$(rocket image rm inuse:other)" inuse:other                # one of its names: only that name goes
rocket image list --no-legend | grep -c inuse:test >/dev/null
assert_fails_with 254 "used by a pod" rocket image rm "$id"              # by ID, with all names, in use: refused
assert_eq "$(rocket image rm --force "$id" 2>/dev/null)" "$id"          # names gone, data kept
assert_not_in inuse: "$(rocket image list --no-legend)"
rocket image gc --grace-period=0
assert_eq "$(rocket enter inuse /bin/cat /usr/local/bin/inuse-marker)" "in use"
rocket stop inuse >/dev/null
wait
rocket image gc --grace-period=0                                        # exited, not removed: still used
[ -n "$(rocket image list --no-legend --full | grep "^$id")" ]
rocket gc --grace-period=0 >/dev/null
rocket image gc --grace-period=1000d                                    # no pod left: it goes, grace or not
[ -z "$(rocket image list --no-legend --full | grep "^$id" || true)" ]

rm -rf "$fx" "$vol"
