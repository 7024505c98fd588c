#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Living in systemd: pod@.service with a .pod file (Type=notify, ready when every app has started),
# graceful stop, Restart=on-failure with a fresh pod, bad .pod files, socket activation into an app,
# enablement, the rocket group, completion of pod names, the gc timer.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
gcc -static -O2 -o "$fx/sockserv" "$ROCKET_TEST_DIR/fixtures/sockserv.c"
bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/sock" "$fx/sockserv"
rocket fetch --name=sockserv:test "oci:$fx/sock:latest"
mkdir -p /etc/rocket/pods /etc/systemd/system
systemctl daemon-reload

# --- pod@web: two apps, active only once both have started ----------------------------------------
cat >/etc/rocket/pods/web.pod <<'POD'
# Two apps sharing the pod's IPC and UTS namespaces.
[Pod]
Hostname=webhost
Environment=GREETING=hello
Port=18081:80

[App server]
Image=busybox:test
Exec=/bin/sh
Args=-c 'sleep 0.5; echo "$GREETING from server"; touch /tmp/ready; exec httpd -f -p 80 -h /var/www'
ReadyPath=/tmp/ready

[App sidecar]
Image=busybox:test
Exec=/bin/sleep
Args=1000
POD
systemctl start pod@web
# The marker exists the moment 'systemctl start' returns: the unit was not active before.
uuid=$(rocket status --format=json web | jq -r .uuid)
[ -e "/var/lib/rocket/pods/run/$uuid/apps/server/upper/tmp/ready" ]
assert_eq "$(busybox wget -qO- http://127.0.0.1:18081/)" "hello from the busybox image"
st=$(systemctl status pod@web --no-pager)
assert_in "Status: \"Running pod web (2 apps)\"" "$st"
assert_in "httpd -f -p 80" "$st"
assert_in "/bin/sleep 1000" "$st"
assert_eq "$(machinectl show web -p Unit --value)" pod@web.service
assert_in "Pod web ($uuid) is up: 2 apps started." "$(journalctl -u pod@web -o cat --no-pager)"
assert_eq "$(journalctl -u pod@web -o json --no-pager MESSAGE_ID=7ecdba8ab5bb48a286aa8c1a26500b0c | jq -r .POD_UUID)" "$uuid"
# The event carries the pod's address on its network.
assert_eq "$(journalctl -u pod@web -o json --no-pager MESSAGE_ID=7ecdba8ab5bb48a286aa8c1a26500b0c | jq -r .POD_IP)" \
        "$(rocket status --format=json web | jq -r '.networks[0].addresses[0]' | cut -d/ -f1)"
assert_in "hello from server" "$(journalctl -M web -u server -o cat --no-pager)"
# enter on a pod of several apps names them.
assert_fails_with 2 "(server, sidecar)" rocket enter web /bin/true
# Stopping the unit stops the pod gracefully: the apps get SIGTERM, the unit ends cleanly.
systemctl stop pod@web
assert_eq "$(systemctl show pod@web -p Result --value)" success
st=$(rocket status web)
assert_in "state=exited" "$st"
assert_in "app-sidecar=143 (killed SIGTERM)" "$st"
assert_not machinectl show web

# --- enabled at boot: wanted by machines.target ------------------------------------------------
systemctl enable pod@web
assert_eq "$(systemctl is-enabled pod@web)" enabled
[ -L /etc/systemd/system/machines.target.wants/pod@web.service ]
systemctl start machines.target
wait_until "systemctl is-active -q pod@web"
systemctl stop pod@web
systemctl disable pod@web

# --- Restart=on-failure: a failing pod comes back as a fresh pod -----------------------------------
printf '[App crash]\nImage=busybox:test\nExec=/bin/sh\nArgs=-c "sleep 0.5; exit 3"\n' >/etc/rocket/pods/crashy.pod
systemctl start pod@crashy
first=$(rocket status --format=json crashy | jq -r .uuid)
wait_until "[ \"\$(rocket status --format=json crashy 2>/dev/null | jq -r .uuid)\" != '$first' ]" 30
second=$(rocket status --format=json crashy | jq -r .uuid)
[ "$second" != "$first" ]
assert_in "app-crash=3" "$(rocket status "$first")"
[ "$(systemctl show pod@crashy -p NRestarts --value)" -ge 1 ]
systemctl stop pod@crashy

# --- a bad .pod file: file:line, and the unit fails without starting anything ----------------------
printf '[Pod]\nHostname=ok\n\n[App bad]\nImage=busybox:test\nFrobnicate=yes\n' >/etc/rocket/pods/broken.pod
before=$(ls /var/lib/rocket/pods/*/ | sort)
assert_not systemctl start pod@broken
assert_in "/etc/rocket/pods/broken.pod:6: unknown key Frobnicate= in [App bad]" \
        "$(journalctl -u pod@broken -o cat --no-pager)"
assert_eq "$(ls /var/lib/rocket/pods/*/ | sort)" "$before"
# ... and it is not restarted: a definition that is wrong stays wrong (exit 78, RestartPreventExitStatus=).
assert_eq "$(systemctl show pod@broken -p ExecMainStatus --value)" 78
sleep 2.5
assert_eq "$(systemctl show pod@broken -p NRestarts --value)" 0
systemctl stop pod@broken 2>/dev/null || true
systemctl reset-failed pod@broken 2>/dev/null || true
printf '[App x]\nImage=busybox:test\nMount=volume=data,target=../../etc\n' >/tmp/bad-mount.pod
assert_fails_with 78 "/tmp/bad-mount.pod:3:" rocket run --pod=/tmp/bad-mount.pod
printf 'no section here\n' >/tmp/bad-syntax.pod
assert_fails_with 78 "/tmp/bad-syntax.pod:1:" rocket run --pod=/tmp/bad-syntax.pod
assert_fails 78 rocket run --pod=no-such-pod
# The JSON pod manifest takes the same way.
printf '{"name":"fromjson","hostname":"jsonhost","apps":[{"name":"one","image":"%s","exec":["/bin/sh","-c","echo $X $(hostname)"],"environment":["X=json"]}]}' \
        "$img" >"$fx/pod.json"
assert_eq "$(rocket run --pod-manifest="$fx/pod.json")" "json jsonhost"
echo '{"apps": []}' >"$fx/empty.json"
assert_fails 78 rocket run --pod-manifest="$fx/empty.json"
# Its volumes and mounts go straight into the manifest: a ',' in a path is a path, idmap and mode stay.
mkdir -p "$fx/a,b" && echo comma >"$fx/a,b/f"
printf '{"apps":[{"name":"c","image":"%s","exec":["/bin/cat","/v/f"],"mounts":[{"volume":"v","target":"/v"}]}],
        "volumes":[{"name":"v","kind":"host","source":"%s","readOnly":true,"idmap":true},{"name":"e","kind":"empty","mode":448}]}' \
        "$img" "$fx/a,b" >"$fx/comma.json"
assert_eq "$(rocket run --private-users --pod-manifest="$fx/comma.json")" comma
u=$(rocket prepare --quiet --private-users --pod-manifest="$fx/comma.json")
assert_eq "$(rocket cat-manifest "$u" | jq -c '[.volumes[] | {name, idmap, mode}]')" \
        '[{"name":"v","idmap":true,"mode":null},{"name":"e","idmap":null,"mode":448}]'
rocket rm "$u" >/dev/null
printf '{"apps":[{"name":"c","image":"%s"}],"volumes":[{"name":"v","kind":"empty","source":"/etc"}]}' "$img" >"$fx/bad.json"
assert_fails 78 rocket run --pod-manifest="$fx/bad.json"
# No comments at the end of a line: ';' and '#' in a value are the value's.
printf '[App semi]\nImage=busybox:test\nExec=/bin/sh\nArgs=-c "echo one ; echo \x27two # three\x27"\n' >/tmp/semi.pod
assert_eq "$(rocket run --pod=/tmp/semi.pod)" "$(printf 'one\ntwo # three')"

# --- socket activation: the socket unit's listening socket reaches the app as fd 3 ----------------
printf '[App web]\nImage=sockserv:test\nExec=/usr/local/bin/sockserv\n' >/etc/rocket/pods/sock.pod
printf '[Socket]\nListenStream=127.0.0.1:18090\nFileDescriptorName=http\n' >/etc/systemd/system/pod@sock.socket
systemctl daemon-reload
systemctl start pod@sock.socket
assert_not systemctl is-active -q pod@sock.service
reply=$(busybox nc 127.0.0.1 18090 </dev/null)
[[ "$reply" =~ ^socket-activated:\ http\ pid\ [0-9]+$ ]]
systemctl is-active -q pod@sock.service
assert_eq "$(busybox nc 127.0.0.1 18090 </dev/null)" "$reply"      # the same server, still listening
systemctl stop pod@sock.socket pod@sock.service

# --- a pod of two images: its journal events carry IMAGE_ID= once per image ------------------------
systemd-run --wait --quiet --unit=rocket-twoimg rocket run --name=twoimg --exec /bin/true busybox:test --- \
        sockserv:test --exec /bin/true
assert_eq "$(journalctl -u rocket-twoimg -o json --no-pager MESSAGE_ID=30dba63510654eb1ba349e52d3d9ef34 |
        jq -r '.IMAGE_ID | if type == "array" then .[] else . end' | sort -u | grep -c '^sha256:[0-9a-f]*$')" 2

# --- systemd-run: the pod stays in a delegated scope or service ------------------------------------
systemd-run --scope -p Delegate=yes --unit=rocket-scope-test rocket run --name scoped --exec /bin/sh "$img" -- \
        -c 'sleep 1' &
wait_until "machinectl show scoped >/dev/null 2>&1"
assert_eq "$(machinectl show scoped -p Unit --value)" rocket-scope-test.scope
wait
# --keep-unit in a unit that does not delegate: refused, with the way out.
out=$(systemd-run --wait --pipe --quiet rocket run --keep-unit --exec /bin/true "$img" 2>&1 || true)
assert_in "does not delegate its cgroup; start it with Delegate=yes" "$out"
# --- the rocket group: fetch and list without root ------------------------------------------------
getent group rocket
chmod 0755 "$fx"
useradd -M -G rocket rocket-member
useradd -M rocket-stranger
as() { setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --init-groups env HOME=/ "${@:2}"; }
as rocket-member rocket fetch --name=busybox:member "oci:$fx/busybox:latest" | grep -c '^sha256:' >/dev/null
assert_in "busybox:member" "$(as rocket-member rocket image list)"
assert_in "web" "$(as rocket-member rocket list)"
out=$(as rocket-stranger rocket list 2>&1 || true)
assert_in "Permission denied (run as root or as a member of group 'rocket')" "$out"
out=$(as rocket-stranger rocket fetch "oci:$fx/busybox:latest" 2>&1 || true)
assert_in "group 'rocket'" "$out"
userdel rocket-member
userdel rocket-stranger

# --- bash completion completes pod names -----------------------------------------------------------
for comp in /usr/local/share/bash-completion/completions/rocket /usr/share/bash-completion/completions/rocket; do
        [ -f "$comp" ] && break
done
got=$(bash -c '. /usr/share/bash-completion/bash_completion; . "$1"
        COMP_WORDS=(rocket status "w"); COMP_CWORD=2; COMP_LINE="rocket status w"; COMP_POINT=${#COMP_LINE}
        _rocket; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp")
assert_in "web" "$got"

# --- the gc timer is installed and its service works -------------------------------------------
systemctl cat rocket-gc.timer >/dev/null
systemctl start rocket-gc.service
assert_eq "$(systemctl show rocket-gc.service -p Result --value)" success

rocket gc --grace-period=0 >/dev/null
rm -rf "$fx" /etc/rocket/pods/*.pod /etc/systemd/system/pod@sock.socket
