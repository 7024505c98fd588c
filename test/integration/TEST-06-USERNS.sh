#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --private-users: the pod's root is root inside and a range of host UIDs of its own outside; the image's
# files still belong to root inside, the store's layers stay root's on the host (idmapped where the
# filesystem can, shifted through the pod's writable layer where it cannot); two pods get disjoint ranges;
# the attacks of TEST-05 still fail; enter, stop, gc and pod@.service work with it.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
# On failure, what the pods said.
trap 'rc=$?; if [ $rc -ne 0 ]; then cat "$fx"/u[ab].log; rocket list; for j in /var/lib/rocket/pods/*/*/journal; do echo "== $j"; journalctl -D "$j" --no-pager | tail -n 30; done; fi' EXIT
attack_test_setup

# Root inside: its own files, the image's, and what it creates or chowns.
out=$(rocket run --private-users --exec /bin/sh "$img" -- -c \
        'id -u; stat -c %u:%g / /bin/busybox /etc/passwd /etc/hosts /tmp; touch /etc/new && chown 1000:1000 /etc/new &&
         stat -c %u:%g /etc/new; su app -c "id -u"; awk "{print \$1, \$3}" /proc/self/uid_map')
assert_eq "$out" "$(printf '0\n0:0\n0:0\n0:0\n0:0\n0:0\n1000:1000\n1000\n0 65536')"

# Prepared, then run: the range is picked once and kept; an empty volume is the pod root's to write.
uuid=$(rocket prepare --quiet --private-users --volume data,kind=empty "$img" --mount volume=data,target=/data \
        --exec /bin/sh -- -c 'echo hi >/data/f && stat -c %u:%g /data /data/f')
status=$(rocket status "$uuid")
assert_in "private-users=" "$status"
range=$(sed -n 's/^private-users=//p' <<<"$status")
assert_eq "$(rocket run-prepared "$uuid")" "$(printf '0:0\n0:0')"
assert_eq "$(rocket status --format=json "$uuid" | jq -r '"\(.privateUsers):65536"')" "$range"
assert_eq "$(stat -c %u "/var/lib/rocket/pods/run/$uuid/volumes/data/f")" "${range%:*}"

# An image file whose owner is beyond the pod's 65536 stays nobody's; the pod still starts.
install -o 100000 -g 100000 -m 0644 /dev/null "$fx/far"
bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/far-img" "$fx/far"
rocket fetch --name=far:test "oci:$fx/far-img:latest"
assert_eq "$(rocket run --private-users --exec /bin/stat far:test -- -c %u:%g /usr/local/bin/far)" "65534:65534"

# A host volume shows the host's owners as they are: host root's files are nobody's, and the pod's root
# may not write where only host root may. With idmap=true it keeps the owners, and what the pod's root
# writes is root's here.
vol=$(mktemp -d)
chmod 0755 "$vol"
echo host >"$vol/by-root"
install -o 1000 -g 1000 /dev/null "$vol/by-1000"
out=$(rocket run --private-users --volume "v,kind=host,source=$vol" "$img" --mount volume=v,target=/v \
        --exec /bin/sh -- -c 'stat -c %u:%g /v/by-root /v/by-1000; cat /v/by-root; { echo pod >/v/by-pod; } 2>/dev/null || echo denied')
assert_eq "$out" "$(printf '65534:65534\n65534:65534\nhost\ndenied')"
[ ! -e "$vol/by-pod" ]
out=$(rocket run --private-users --volume "v,kind=host,source=$vol,idmap=true" "$img" --mount volume=v,target=/v \
        --exec /bin/sh -- -c 'stat -c %u:%g /v/by-root /v/by-1000; cat /v/by-root; echo pod >/v/by-pod')
assert_eq "$out" "$(printf '0:0\n1000:1000\nhost')"
assert_eq "$(stat -c %u:%g "$vol/by-pod")" "0:0"
out=$(rocket run --private-users --volume "v,kind=host,source=$vol,idmap=true,readOnly=true" "$img" \
        --mount volume=v,target=/v --exec /bin/sh -- -c '{ echo x >/v/ro; } 2>/dev/null || echo read-only')
assert_eq "$out" read-only
assert_fails 2 rocket run --volume "v,kind=host,source=$vol,idmap=true" "$img"      # needs --private-users

# What the pod's root leaves in its directory does not work for anyone on the host who can reach it: a
# set-user-ID file planted in an empty volume runs as the member of group rocket who runs it. (A data
# directory on a tmpfs of our own: this host's /var is nosuid already.)
sdir=$(mktemp -d)
mount -t tmpfs -o mode=0755 tmpfs "$sdir"
ROCKET_DIR=$sdir rocket fetch --name=attack:test "oci:$fx/atk:latest" >/dev/null
[[ "$(findmnt -no OPTIONS --target "$sdir")" != *nosuid* ]]
uuid=$(ROCKET_DIR=$sdir rocket prepare --quiet --private-users --volume drop,kind=empty attack:test \
        --mount volume=drop,target=/drop --exec /bin/sh -- -c 'cp /usr/local/bin/attack /drop/x && chmod 4755 /drop/x && /drop/x euid')
assert_in nosuid "$(findmnt -no OPTIONS --target "$sdir/pods/run")"
assert_eq "$(ROCKET_DIR=$sdir rocket run-prepared "$uuid")" "euid=0"
useradd -M -G rocket mallory
out=$(setpriv --reuid="$(id -u mallory)" --regid="$(id -g mallory)" --init-groups -- "$sdir/pods/run/$uuid/volumes/drop/x" euid)
assert_eq "$out" "euid=$(id -u mallory)"
userdel mallory
ROCKET_DIR=$sdir rocket gc --grace=0s >/dev/null
umount -R "$sdir"

# Two pods at once: each one's processes run as its own range on the host, and the ranges are disjoint.
rocket run --private-users --name=ua --exec /bin/sleep "$img" -- 1000 >"$fx/ua.log" 2>&1 &
rocket run --private-users --name=ub --exec /bin/sleep "$img" -- 1000 >"$fx/ub.log" 2>&1 &
wait_until "machinectl show ua >/dev/null 2>&1 && machinectl show ub >/dev/null 2>&1"
wait_until "rocket enter ua true && rocket enter ub true"
la=$(machinectl show ua -p Leader --value)
lb=$(machinectl show ub -p Leader --value)
read -r inside_a base_a size_a <"/proc/$la/uid_map"
read -r _ base_b _ <"/proc/$lb/uid_map"
assert_eq "$inside_a $size_a" "0 65536"
assert_eq "$(tr -s ' ' <"/proc/$la/gid_map" | sed 's/^ //')" "0 $base_a 65536"
[ "$base_a" -ge 65536 ]
[ "$base_b" -ge 65536 ]
diff=$((base_a > base_b ? base_a - base_b : base_b - base_a))
[ "$diff" -ge 65536 ]
host_uid() { sed -n 's/^Uid:\t\([0-9]*\).*/\1/p' "/proc/$1/status"; }
assert_eq "$(host_uid "$la")" "$base_a"                                 # the pod's systemd
for c in $(cat "/proc/$la/task/$la/children"); do
        if [ "$(cat "/proc/$c/comm")" = sleep ]; then
                assert_eq "$(host_uid "$c")" "$base_a"                  # the app
                app_seen=1
        fi
done
[ "${app_seen:-0}" = 1 ]
# Recorded in the pod: the manifest has the range, and rocket enter is root in it.
assert_eq "$(rocket cat-manifest ua | jq .privateUsers)" "$base_a"
assert_eq "$(rocket enter ua sh -c 'id -u; stat -c %u /bin/busybox')" "$(printf '0\n0')"
# machined and the journal see the pod as ever.
assert_eq "$(machinectl show ua -p State --value)" running
wait_until "journalctl -M ua --no-pager | grep -c 'Started busybox.service' >/dev/null"
# machinectl shell enters the app in the pod's user namespace, as rocket enter does.
out=$(machinectl shell ua /bin/sh -c 'id -u; grep ^0:: /proc/self/cgroup; cat /proc/self/uid_map' </dev/null | tr -d '\r')
assert_in "0::/system.slice/busybox.service" "$out"
assert_in "$base_a" "$out"
assert_eq "$(systemctl -M ua is-active busybox.service)" active
rocket stop ua ub >/dev/null
wait
assert_eq "$(rocket status ua | sed -n 's/^state=//p')" exited

# A pod whose supervisor is gone and whose root then drops its own lock counts as exited; gc does not
# leave it running (its range would go to the next pod).
rocket run --private-users --name=orphan --exec /bin/sleep "$img" -- 1000 >/dev/null 2>&1 &
sup=$!
wait_until "rocket enter orphan true"
leader=$(machinectl show orphan -p Leader --value)
kill -9 "$sup"
rocket enter orphan sh -c 'for p in /proc/[0-9]*; do [ "$(cat "$p/comm" 2>/dev/null)" = rocket-pod-help ] && kill -9 "${p#/proc/}"; done; true'
wait_until "rocket status orphan | grep -c state=exited >/dev/null"
kill -0 "$leader"                       # still running, unmanaged
rocket gc --grace=0s >/dev/null
wait_until "! kill -0 $leader 2>/dev/null"
assert_not machinectl show orphan

# The store's layers were never chowned.
assert_eq "$(find /var/lib/rocket/store \( -uid +$((0x70000000 - 1)) -o -gid +$((0x70000000 - 1)) \) | head -1)" ""

# The attacks still fail as the pod's root (more of them now by the user namespace, too).
out=$(rocket run --private-users --exec /bin/sh attack:test -- -c \
        'for a in mount mknod-block write-hostname finit-module reboot keyctl unshare-user settime raise-cap chroot; do
                echo "$a: $(/usr/local/bin/attack $a)"; done')
for a in mount mknod-block finit-module reboot keyctl unshare-user settime raise-cap chroot; do
        assert_in "$a: EPERM" "$out"
done
[[ "$out" =~ write-hostname:\ E(ROFS|ACCES) ]]     # read-only, and not the pod root's file
# Even with the capability and seccomp defaults off, host-owned things stay out of reach: the user
# namespace has no say over the host's clock or the host's /proc/sys.
out=$(rocket run --private-users --insecure-options=seccomp,capabilities,paths --exec /bin/sh attack:test -- -c \
        'for a in settime write-hostname; do echo "$a: $(/usr/local/bin/attack $a)"; done')
assert_in "settime: EPERM" "$out"
assert_in "write-hostname: E" "$out"
[[ "$out" != *"write-hostname: ok"* ]]

# A store on a filesystem that cannot be idmapped (overlayfs): the owners are shifted with chown in the
# pod's writable layer instead; the store's files keep theirs.
ovl=$(mktemp -d)
mkdir "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/store"
mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" "$ovl/store"
mkdir "$ovl/store/pods"             # the pods' writable layers cannot be on overlayfs: a tmpfs for them
mount -t tmpfs -o mode=0750 tmpfs "$ovl/store/pods"
ROCKET_DIR="$ovl/store" rocket fetch --name=busybox:ovl "oci:$fx/busybox:latest" >/dev/null
out=$(ROCKET_DIR="$ovl/store" rocket run --private-users --exec /bin/sh busybox:ovl -- -c \
        'stat -c %u:%g /bin/busybox /etc/passwd; ls -l /bin/busybox | cut -c1-10; touch /etc/x && echo ok')
assert_eq "$out" "$(printf '0:0\n0:0\n-rwxr-xr-x\nok')"
assert_eq "$(find "$ovl/store/store" \( -uid +65535 -o -gid +65535 \) | head -1)" ""
# Ranges are host-wide: this data directory's pod got none that a pod of /var/lib/rocket still has.
read -r _ ovl_base _ <<<"$(ROCKET_DIR="$ovl/store" rocket run --private-users --exec /bin/cat busybox:ovl -- /proc/self/uid_map)"
for u in $(rocket list --no-legend | cut -d' ' -f1); do
        [ "$(rocket status --format=json "$u" | jq -r '.privateUsers // 0')" != "$ovl_base" ]
done
[ -e "/var/lib/rocket/userns/$(printf %08x "$ovl_base")" ]
ROCKET_DIR="$ovl/store" rocket gc --grace=0s >/dev/null
umount -R "$ovl/store"          # the pods tmpfs, and the nosuid bind rocket made of it
# The stage1 tree is installed under /usr, an overlayfs in this test host: shifted the same way.
rocket run --private-users --name=stage1view --exec /bin/sleep "$img" -- 1000 &
wait_until "rocket enter stage1view true"
leader=$(machinectl show stage1view -p Leader --value)
read -r _ base _ <"/proc/$leader/uid_map"
# Seen from the host through the pod's root: the pod's root owns them (0 inside).
assert_eq "$(stat -c %u:%g "/proc/$leader/root/usr/lib/systemd/systemd" "/proc/$leader/root/etc/machine-id" \
        "/proc/$leader/root/run/systemd")" "$(printf '%s\n' "$base:$base" "$base:$base" "$base:$base")"
stage1=$(rocket cat-manifest stage1view | jq -r .stage1)
assert_eq "$(stat -c %u "$stage1/rootfs/usr/lib/systemd/systemd")" 0
rocket stop stage1view >/dev/null
wait

# As a unit: PrivateUsers= in a .pod file, through pod@.service.
mkdir -p /etc/rocket/pods
cat >/etc/rocket/pods/userns.pod <<EOF
[Pod]
PrivateUsers=yes

[App sleeper]
Image=$img
Exec=/bin/sleep
Args=1000
EOF
systemctl start pod@userns.service
leader=$(machinectl show userns -p Leader --value)
read -r _ base _ <"/proc/$leader/uid_map"
[ "$base" -ge 65536 ]
systemctl stop pod@userns.service
rm /etc/rocket/pods/userns.pod

# A stage1 without user namespaces says so, in one line, and leaves no pod behind.
n=$(rocket list --no-legend | wc -l)
assert_fails 254 rocket run --private-users --stage1-name=fly "$img"
assert_eq "$(rocket list --no-legend | wc -l)" "$n"

# gc frees the ranges: the next pod gets the first one again.
rocket gc --grace=0s >/dev/null
out=$(rocket run --private-users --exec /bin/cat "$img" -- /proc/self/uid_map)
read -r _ base _ <<<"$out"
assert_eq "$base" "$((0x70000000))"
rocket gc --grace=0s >/dev/null

# --readonly-rootfs in a user namespace: read-only once its files are shifted, still the pod root's.
out=$(rocket run --private-users --readonly-rootfs --exec /bin/sh "$img" -- -c 'touch /x 2>&1; stat -c %u /etc/hostname')
assert_in "Read-only file system" "$out"
assert_eq 0 "$(tail -n1 <<<"$out")"

# A sandbox in a user namespace: an app added later gets idmapped layers, its files and records are the
# pod root's, and the pod's systemd takes it (connected to as the pod's root).
rocket app sandbox --private-users --name=usb >/dev/null 2>&1 &
usb=$!
wait_until "rocket status --wait-ready=1s usb >/dev/null 2>&1"
ubase=$(rocket status usb | sed -n 's/^private-users=\([0-9]*\):.*/\1/p')
uuuid=$(rocket status --format=json usb | jq -r .uuid)
rocket app add usb "$img" --name=u --exec /bin/sh -- -c 'echo "uid $(id -u)"; touch /x && echo wrote; exec sleep 1000'
rocket app start usb --app=u
wait_until "rocket logs --no-prefix usb --app=u | grep -qx wrote"
rocket logs --no-prefix usb --app=u | grep -qx 'uid 0'
assert_eq "$ubase" "$(stat -c %u "/var/lib/rocket/pods/run/$uuuid/apps/u/upper/x")"
assert_eq "0 $ubase 65536" "$(rocket app exec usb --app=u cat /proc/self/uid_map | tr -s ' ' | sed 's/^ //')"
rocket app stop usb --app=u
rocket app status --format=json usb --app=u | jq -e '.state == "exited" and .exitStatus == 143'
rocket app rm usb --app=u
rocket stop usb >/dev/null
wait "$usb" || true

# --no-overlay in a user namespace: the copies of the images (at the start and added later) are the pod's,
# shifted into its range.
rocket app sandbox --private-users --no-overlay --name=unov >/dev/null 2>&1 &
unov=$!
wait_until "rocket status --wait-ready=1s unov >/dev/null 2>&1"
nbase=$(rocket status unov | sed -n 's/^private-users=\([0-9]*\):.*/\1/p')
nuuid=$(rocket status --format=json unov | jq -r .uuid)
rocket app add unov "$img" --name=n --exec /bin/sh -- -c 'stat -c "%u %g" /bin/busybox; touch /x && echo wrote'
rocket app start unov --app=n
wait_until "rocket logs --no-prefix unov --app=n | grep -qx wrote"
assert_eq "0 0" "$(rocket logs --no-prefix unov --app=n | head -n1)"
assert_eq "$nbase" "$(stat -c %u "/var/lib/rocket/pods/run/$nuuid/apps/n/rootfs/x")"
assert_eq "$nbase" "$(stat -c %u "/var/lib/rocket/pods/run/$nuuid/apps/n/rootfs/bin/busybox")"
rocket stop unov >/dev/null
wait "$unov" || true
out=$(rocket run --private-users --no-overlay --exec /bin/sh "$img" -- -c 'stat -c "%u %g" /bin/busybox; touch /y && echo wrote')
assert_eq "$out" "$(printf '0 0\nwrote')"
