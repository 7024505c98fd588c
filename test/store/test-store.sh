#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The image store against real images: every import format, metadata, rendering and running through
# chroot, export that skopeo reads, gc, the hostile corpus and concurrency. Runs on this machine as root
# (no systemd needed). TAP output.
#
# Usage: test-store.sh ROCKET SRCDIR
set -uo pipefail

rocket=$1 src=$2
if [ "$(id -u)" -ne 0 ]; then
        [ "${ROCKET_TEST_REQUIRE:-0}" = 1 ] && { echo "Bail out! needs root"; exit 1; }
        echo "1..0 # SKIP needs root"
        exit 0
fi
for t in umoci skopeo python3; do
        command -v $t >/dev/null || { echo "Bail out! needs $t"; exit 1; }
done

work=$(mktemp -d /var/tmp/rocket-store-test.XXXXXX)
marker=/tmp/rocket-escape-marker-$$
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$work" "$marker"
}
trap cleanup EXIT
export ROCKET_DIR=$work/dir
fx=$work/fx

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/# /'; done; }
# check DESCRIPTION COMMAND...: a shell condition.
check() { local what=$1; shift; if out=$("$@" 2>&1); then ok "$what"; else not_ok "$what" "$out"; fi; }
# fails_with DESCRIPTION PATTERN CMD...: exit 254 (an error of rocket's own), one line on stderr matching PATTERN, nothing on stdout.
fails_with() {
        local what=$1 pat=$2 rc=0
        shift 2
        "$@" >"$work/out" 2>"$work/err" || rc=$?
        if [ "$rc" -eq 254 ] && [ ! -s "$work/out" ] && [ "$(wc -l <"$work/err")" -eq 1 ] && grep -Eq -- "$pat" "$work/err"; then
                ok "$what"
        else
                not_ok "$what" "exit $rc, wanted 254" "stdout: $(cat "$work/out")" "stderr: $(cat "$work/err")" "pattern: $pat"
        fi
}
# The store's visible content, for before/after comparisons (tmp/ must be empty again too).
store_state() { (cd "$ROCKET_DIR/store" && find blobs layers images refs tmp -mindepth 1 -maxdepth 2 | sort); }



bash "$src/test/fixtures/mkimages.sh" "$fx" >"$work/mk.log" 2>&1 || { echo "Bail out! fixtures: $(tail -5 "$work/mk.log")"; exit 1; }

# --- every local format imports, and runs through chroot ---------------------------------------------
id_oci=$("$rocket" fetch oci:"$fx/oci":latest 2>"$work/err") && [[ "$id_oci" =~ ^sha256:[0-9a-f]{64}$ ]] \
        && ok "fetch oci:DIR:TAG prints the image ID" || not_ok "fetch oci:DIR:TAG" "$(cat "$work/err")"
manifest=$(python3 -c 'import json,sys; print([m["digest"] for m in json.load(open(sys.argv[1]))["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="latest"][0])' "$fx/oci/index.json")
[ "$id_oci" = "$manifest" ] && ok "the ID is the OCI manifest digest" || not_ok "the ID is the OCI manifest digest" "$id_oci != $manifest"

id_arch=$("$rocket" fetch oci-archive:"$fx/busybox.oci.tar" 2>&1)
[ "$id_arch" = "$id_oci" ] && ok "oci-archive of the same image gives the same ID" || not_ok "oci-archive import" "$id_arch"

id_docker=$("$rocket" fetch docker-archive:"$fx/busybox.docker.tar" 2>&1) && [[ "$id_docker" =~ ^sha256: ]] \
        && ok "docker-archive imports" || not_ok "docker-archive imports" "$id_docker"
id_docker2=$("$rocket" fetch docker-archive:"$fx/busybox.docker.tar":busybox:v2 2>&1)
[ "$id_docker2" = "$id_docker" ] && ok "docker-archive:FILE:NAME:TAG picks the same image" || not_ok "docker-archive NAME:TAG" "$id_docker2"

ids_aci=()
for f in busybox.aci busybox.aci.gz busybox.aci.bz2 busybox.aci.xz; do
        ids_aci+=("$("$rocket" fetch "$fx/$f" 2>&1)")
done
[[ "${ids_aci[0]}" =~ ^sha256: ]] && [ "${ids_aci[1]}" = "${ids_aci[0]}" ] && [ "${ids_aci[2]}" = "${ids_aci[0]}" ] &&
        [ "${ids_aci[3]}" = "${ids_aci[0]}" ] && ok "ACI imports from tar, gzip, bzip2 and xz to one ID" \
        || not_ok "ACI imports" "${ids_aci[*]}"
id_aci=${ids_aci[0]}
id_fileurl=$("$rocket" fetch "file://$fx/busybox.aci" 2>&1)
[ "$id_fileurl" = "$id_aci" ] && ok "file:// ACI" || not_ok "file:// ACI" "$id_fileurl"

list=$("$rocket" image list --no-legend 2>&1)
grep -q '^sha256:[0-9a-f]\{12\} .*oci:latest' <<<"$list" && grep -q 'busybox:v2' <<<"$list" &&
        grep -q 'example.com/busybox:1.0' <<<"$list" && ok "image list shows names and short IDs" || not_ok "image list" "$list"
json=$("$rocket" image list --format=json)
[ "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$json")" = 3 ] \
        && ok "image list --format=json has the 3 images" || not_ok "image list json" "$json"
# --sort/--order (rkt's): by size, by name, descending; a bad field is a usage error.
sizes=$("$rocket" image list --format=json --sort=size | python3 -c 'import json,sys; print(" ".join(str(i["size"]) for i in json.load(sys.stdin)))')
desc=$("$rocket" image list --format=json --sort=size --order=desc | python3 -c 'import json,sys; print(" ".join(str(i["size"]) for i in json.load(sys.stdin)))')
names=$("$rocket" image list --no-legend --sort=name | awk '{ print $2 }' | tr '\n' ' ')
[ "$sizes" = "$(tr ' ' '\n' <<<"$sizes" | sort -n | tr '\n' ' ' | sed 's/ $//')" ] &&
        [ "$desc" = "$(tr ' ' '\n' <<<"$sizes" | sort -rn | tr '\n' ' ' | sed 's/ $//')" ] &&
        [ "$names" = "$(tr ' ' '\n' <<<"$names" | grep . | LC_ALL=C sort | tr '\n' ' ')" ] &&
        ok "image list --sort/--order" || not_ok "image list --sort/--order" "$sizes" "$desc" "$names"
cols=$("$rocket" image list --fields=size,id --sort=size | head -1)
first=$("$rocket" image list --no-legend --fields=size,id --sort=size | head -1 | awk '{ print NF ":" $2 }')
[ "$(echo $cols)" = "SIZE ID" ] && [[ "$first" == 2:sha256:* ]] && ok "image list --fields" ||
        not_ok "image list --fields" "$cols" "$first"
rc=0; err=$("$rocket" image list --sort=bogus 2>&1 >/dev/null) || rc=$?
[ "$rc" = 2 ] && grep -q "cannot sort by 'bogus'" <<<"$err" && ok "image list --sort=bogus is a usage error" ||
        not_ok "image list --sort=bogus" "exit $rc" "$err"

for id in "$id_oci" "$id_docker" "$id_aci"; do
        rm -rf "$work/r"
        if "$rocket" image render "$id" "$work/r" 2>"$work/err" && chroot "$work/r/rootfs" /bin/busybox true &&
           [ "$(chroot "$work/r/rootfs" /bin/sh -c 'echo $((6*7))')" = 42 ]; then
                ok "rendered rootfs of ${id:0:19} runs busybox through chroot"
        else
                not_ok "render+chroot ${id:0:19}" "$(cat "$work/err")"
        fi
done

# The docker image is oci:v2: layer 2 adds /data/hello, layer 3 deletes /etc/motd (a whiteout).
rm -rf "$work/r" && "$rocket" image render --rootfs-only "$id_docker" "$work/r" 2>/dev/null
[ "$(cat "$work/r/data/hello" 2>/dev/null)" = "hello from layer 2" ] && [ ! -e "$work/r/etc/motd" ] &&
        [ -e "$work/r/etc/passwd" ] && ok "render applies layers and whiteouts" || not_ok "render whiteouts" "$(ls -la "$work/r/etc" 2>&1)"
wh=$(find "$ROCKET_DIR/store/layers" -name motd -type c | head -1)
[ -n "$wh" ] && [ "$(stat -c %t:%T "$wh")" = 0:0 ] && ok "extracted layers keep whiteouts as overlay 0:0 devices" \
        || not_ok "overlay whiteout in layer tree" "$(find "$ROCKET_DIR/store/layers" -name motd)"
[ "$(stat -c %u:%g "$work/r/home/app")" = 1000:1000 ] && [ "$(stat -c %a "$work/r/tmp")" = 1777 ] &&
        [ "$(readlink "$work/r/bin/sh")" = busybox ] && ok "ownership, modes and symlinks are kept" \
        || not_ok "ownership/modes" "$(stat -c '%n %u:%g %a' "$work/r/home/app" "$work/r/tmp")"

# A layer is stored once, by its uncompressed digest: the docker archive is oci:v2 uncompressed, and
# oci:latest is its first layer gzipped, so the three share trees (oci:latest's one, the archive's
# other two, and the ACIs' one: 4), oci:v2 adds none, and both forms of v2 count the same size.
n_before=$(ls "$ROCKET_DIR/store/layers" | wc -l)
id_v2=$("$rocket" fetch "oci:$fx/oci:v2" 2>&1)
n_after=$(ls "$ROCKET_DIR/store/layers" | wc -l)
[ "$n_before" -eq 4 ] && [ "$n_after" -eq 4 ] && ok "the same layer, compressed or not, is one tree" \
        || not_ok "shared layers" "before $n_before after $n_after: $id_v2"
size_of() { "$rocket" image list --format=json | python3 -c 'import json,sys; print([i["size"] for i in json.load(sys.stdin) if i["id"] == sys.argv[1]][0])' "$1"; }
[ "$(size_of "$id_v2")" = "$(size_of "$id_docker")" ] && ok "an image counts the same size compressed or not" \
        || not_ok "one size convention" "oci $(size_of "$id_v2") docker $(size_of "$id_docker")"
"$rocket" image rm "$id_v2" >/dev/null

# --- metadata -----------------------------------------------------------------------------------------
insp=$("$rocket" image inspect oci:latest 2>&1)
python3 - "$insp" <<'PY' && ok "inspect: OCI Entrypoint, Cmd, Env, WorkingDir, User, ports, labels, volumes" || not_ok "inspect OCI" "$insp"
import json, sys
c = json.loads(sys.argv[1])
assert c["entrypoint"] == ["/bin/sh"], c
assert c["cmd"] == ["-c", "echo hello from busybox"], c
assert "GREETING=hello" in c["env"], c
assert c["workingDir"] == "/root" and c["user"] == "0" and c["group"] == "0", c
assert sorted(c["ports"]) == ["53-udp", "80-tcp"], c
assert c["labels"] == ["org.example.test=yes"] and c["volumes"] == ["/data"], c
PY
insp=$("$rocket" image inspect example.com/busybox:1.0 2>&1)
python3 - "$insp" <<'PY' && ok "inspect: ACI exec, user, group, environment, ports, mountPoints, isolators, annotations" || not_ok "inspect ACI" "$insp"
import json, sys
c = json.loads(sys.argv[1])
assert c["entrypoint"] == ["/bin/sh", "-c", "echo hello from aci"], c
assert c["env"] == ["ACI_VAR=aci-value"] and c["user"] == "0" and c["group"] == "0", c
assert c["ports"] == ["http=80/tcp"] and c["volumes"] == ["data:/data:ro"], c
assert c["isolators"] == ['resource/memory={"limit":"256M"}'] and c["annotations"] == ["authors=rocket tests"], c
PY
"$rocket" image cat-manifest example.com/busybox:1.0 | grep -c '"acKind":"ImageManifest"' >/dev/null &&
        "$rocket" image cat-manifest "$id_oci" | grep -c '"schemaVersion":2' >/dev/null && ok "cat-manifest" || not_ok "cat-manifest"

# ACI dependencies: app.aci needs example.com/busybox:1.0, whose layer goes below its own.
id_app=$("$rocket" fetch "$fx/app.aci" 2>&1)
rm -rf "$work/r" && "$rocket" image render --rootfs-only "$id_app" "$work/r" &&
        [ "$(chroot "$work/r" /app/run)" = "app running" ] && ok "ACI dependency layers stack under the app" \
        || not_ok "ACI dependencies" "$id_app"

# --- IDs, names, bad input ----------------------------------------------------------------------------
short=${id_oci:7:10}
[ "$("$rocket" image inspect "$short" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')" = "$id_oci" ] &&
        ok "unique ID prefixes resolve" || not_ok "ID prefix"
fails_with "unknown image: one line, exit 254" "No image is named 'nope'" "$rocket" image inspect nope
fails_with "missing file" "busybox-missing.aci" "$rocket" fetch "$fx/busybox-missing.aci"
fails_with "unsupported transport" "docker://" "$rocket" fetch docker://busybox
head -c 70000 "$fx/busybox.docker.tar" >"$work/truncated.docker.tar"
fails_with "a truncated docker-archive is called that, not a hostile entry" "truncated or damaged" \
        "$rocket" fetch "docker-archive:$work/truncated.docker.tar"
fails_with "a tag that is not in the layout" "nope" "$rocket" fetch oci:"$fx/oci":nope
fails_with "several images and no tag" "several images" "$rocket" fetch oci:"$fx/oci"
fails_with "not an image" "not an image" "$rocket" fetch oci:"$work"
rc=0; "$rocket" fetch --bogus x 2>/dev/null || rc=$?; [ $rc -eq 2 ] && ok "unknown fetch option is a usage error" || not_ok "usage error" "exit $rc"

# --- export round trip --------------------------------------------------------------------------------
"$rocket" image export "$id_docker" "$work/exp.tar" >/dev/null 2>"$work/err" &&
        skopeo inspect "oci-archive:$work/exp.tar" >"$work/inspect.json" 2>>"$work/err" &&
        grep -q '"Layers"' "$work/inspect.json" && ok "export writes an OCI archive skopeo accepts" || not_ok "export" "$(cat "$work/err")"
fails_with "export refuses to overwrite" "exists" "$rocket" image export "$id_docker" "$work/exp.tar"
"$rocket" image rm "$id_docker" >/dev/null && "$rocket" image gc --grace-period=1000d 2>/dev/null
id_back=$("$rocket" fetch "oci-archive:$work/exp.tar" 2>&1)
[ "$id_back" = "$id_docker" ] && ok "re-importing the export gives the same ID" || not_ok "export round trip" "$id_back"

# --- the hostile corpus -------------------------------------------------------------------------------
python3 "$src/test/fixtures/mkhostile.py" "$work/hostile" "$marker" >"$work/cases"
before=$(store_state)
while read -r case bad; do
        [ "$case" = overlay-xattr ] && continue
        case $case in
                wrong-digest) pat="does not match its digest" ;;
                truncated-gzip|huge-claim) pat="Refusing image|Failed to import" ;;
                *) pat="entry '$(printf '%s' "$bad" | sed 's/[.[\*^$()+?{|]/\\&/g')'" ;;
        esac
        fails_with "hostile $case is refused, naming what is wrong" "$pat" "$rocket" fetch "oci:$work/hostile/$case:latest"
done <"$work/cases"
after=$(store_state)
[ "$before" = "$after" ] && [ ! -e "$marker" ] && ! ls /etc/.wh.* >/dev/null 2>&1 &&
        ok "after the hostile corpus the store is unchanged and nothing appeared outside" \
        || not_ok "store unchanged / no escape" "$(diff <(echo "$before") <(echo "$after"))" "marker: $(ls -la "$marker" 2>&1)"
id_x=$("$rocket" fetch "oci:$work/hostile/overlay-xattr:latest" 2>&1)
f=$(find "$ROCKET_DIR/store/layers" -path '*/d/f' | head -1)
if [ -n "$f" ] && python3 - "$f" <<'PY'
import os, sys
names = os.listxattr(sys.argv[1])
assert not any(n.startswith("trusted.") or n.startswith("user.overlay.") for n in names), names
PY
then ok "planted overlay xattrs are stripped"; else not_ok "overlay xattrs stripped" "$id_x $f"; fi

# --- concurrency: 20 parallel fetches of 3 images, a gc loop, one kill -9 -----------------------------
"$rocket" image rm "$id_oci" "$id_docker" "$id_aci" "$id_app" "$id_x" >/dev/null 2>&1
"$rocket" image gc --grace-period=0 2>/dev/null
srcs=("oci:$fx/oci:latest" "docker-archive:$fx/busybox.docker.tar" "$fx/busybox.aci.xz")
( for _ in $(seq 30); do "$rocket" image gc --grace-period=1000d 2>/dev/null; sleep 0.05; done ) &
gcpid=$!
for i in $(seq 20); do
        "$rocket" fetch "${srcs[$((i % 3))]}" >"$work/par.$i" 2>&1 &
        pids+=($!)
done
"$rocket" fetch "$fx/busybox.aci.bz2" >/dev/null 2>&1 &
victim=$!
sleep 0.15
kill -9 "$victim" 2>/dev/null
wait "${pids[@]}" "$gcpid" 2>/dev/null
pids=()
bad=0
for i in $(seq 20); do grep -Eq '^sha256:[0-9a-f]{64}$' "$work/par.$i" || bad=$((bad + 1)); done
[ $bad -eq 0 ] && ok "20 parallel fetches during gc all succeed" || not_ok "parallel fetches" "$(cat "$work"/par.* | grep -v ^sha256 | head -5)"
check "image verify is clean after the storm and a kill -9" "$rocket" image verify
[ "$("$rocket" image list --format=json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] &&
        ok "exactly the 3 images are listed" || not_ok "3 images listed" "$("$rocket" image list)"
"$rocket" image gc --grace-period=1000d 2>/dev/null
[ -z "$(ls -A "$ROCKET_DIR/store/tmp")" ] && ok "gc removes what the killed import left in tmp/" || not_ok "tmp cleaned" "$(ls -A "$ROCKET_DIR/store/tmp")"
# A corrupted blob is caught by verify.
blob=$(ls "$ROCKET_DIR/store/blobs/sha256" | head -1)
chmod u+w "$ROCKET_DIR/store/blobs/sha256/$blob" && echo garbage >>"$ROCKET_DIR/store/blobs/sha256/$blob"
rc=0; "$rocket" image verify >"$work/out" 2>"$work/err" || rc=$?
[ $rc -eq 254 ] && grep -q "sha256:$blob: content does not match its digest" "$work/err" &&
        grep -q 'The store has 1 problem' "$work/err" && ok "image verify names the corrupted blob" \
        || not_ok "image verify reports a corrupted blob" "exit $rc" "$(cat "$work/err")"
chmod u+w "$ROCKET_DIR/store/blobs/sha256/$blob" && truncate -s -8 "$ROCKET_DIR/store/blobs/sha256/$blob"
check "image verify is clean once the blob is restored" "$rocket" image verify

# --- the same image again keeps the time it first came in ---------------------------------------------
imported() { "$rocket" image list --format=json | python3 -c 'import json,sys; print([i["importTime"] for i in json.load(sys.stdin) if i["id"] == sys.argv[1]][0])' "$1"; }
t0=$(imported "$id_oci")
sleep 1.1
"$rocket" fetch oci:"$fx/oci":latest >/dev/null 2>&1
[ "$(imported "$id_oci")" = "$t0" ] && ok "re-fetching an image keeps its import time" || not_ok "import time kept" "$t0 -> $(imported "$id_oci")"

# --- names: tag, rm of one name, rm of an ID with all its names ---------------------------------------
out=$("$rocket" image tag oci:latest extra:one 2>&1)
[ "$out" = "$id_oci" ] && ok "image tag prints the image's ID" || not_ok "image tag" "$out"
"$rocket" image tag "$id_oci" extra:two >/dev/null
out=$("$rocket" image rm extra:one 2>&1)
[ "$out" = extra:one ] && "$rocket" image cat-manifest oci:latest >/dev/null && "$rocket" image cat-manifest extra:two >/dev/null &&
        ok "image rm NAME removes that name only" || not_ok "image rm NAME" "$out"
fails_with "a removed name is gone" "No image is named 'extra:one'" "$rocket" image rm extra:one
"$rocket" image tag "$id_docker2" extra:two >/dev/null
[ "$("$rocket" image tag extra:two extra:two)" = "$id_docker2" ] && ok "image tag moves a name to another image" ||
        not_ok "image tag moves a name" "$("$rocket" image list)"
out=$("$rocket" image rm extra:two 2>&1)
[ "$out" = extra:two ] && "$rocket" image cat-manifest "$id_docker2" >/dev/null && ok "the other image keeps its own name" ||
        not_ok "the other image keeps its name" "$out"
"$rocket" image tag oci:latest extra:three >/dev/null
out=$("$rocket" image rm "$id_oci" 2>&1)
rc=0; "$rocket" image cat-manifest extra:three >/dev/null 2>&1 || rc=$?
[ "$out" = "$id_oci" ] && [ $rc -eq 254 ] && [ ! -e "$ROCKET_DIR/store/refs/oci:latest" ] &&
        ok "image rm ID removes the image with all its names" || not_ok "image rm ID" "$out" "rc $rc"
rc=0; "$rocket" image tag "$id_docker2" "Bad Name" 2>/dev/null || rc=$?
[ $rc -eq 2 ] && ok "image tag refuses a bad name as a usage error" || not_ok "image tag bad name" "exit $rc"

# --- gc ----------------------------------------------------------------------------------------------
"$rocket" image rm busybox:v2 example.com/busybox:1.0 >/dev/null
"$rocket" image gc --grace-period=0 2>/dev/null
[ -z "$(ls -A "$ROCKET_DIR/store/blobs/sha256" "$ROCKET_DIR/store/layers" "$ROCKET_DIR/store/images" "$ROCKET_DIR/store/refs" | grep -v ':$' | grep -v '^$')" ] &&
        ok "rm + gc leave no blob, layer, record or name" || not_ok "gc empties the store" "$(find "$ROCKET_DIR/store" | head)"

echo "1..$n"
[ "$failed" -eq 0 ]
