#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The metadata service (appc's, rkt's metadata-service), socket-activated by rocket-metadata.socket: a pod
# run with --mds-register gets $AC_METADATA_URL, its apps read their pod's UUID, manifest and annotations and
# their image's ID and manifest over the pod's own network, sign with the pod's HMAC key (HMAC-SHA512, checked
# here with openssl) and verify another pod's signature; nobody gets another pod's data, an unknown or stale
# token gets nothing, and only root registers.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup

# Not running: --mds-register fails in one line and leaves no pod.
assert_fails_with 254 "Cannot register the pod with the metadata service" rocket run --mds-register --name=early "$img" --exec /bin/true
assert_not rocket status early
assert_fails_with 2 "needs a network the pod reaches the host on" rocket run --mds-register --net=none "$img" --exec /bin/true
systemctl start rocket-metadata.socket

# Pod A: what its app reads at $AC_METADATA_URL.
cat >"$fx/a.sh" <<'S'
u=$AC_METADATA_URL/acMetadata/v1
echo "url $AC_METADATA_URL"
echo "uuid $(wget -qO- "$u/pod/uuid")"
echo "image $(wget -qO- "$u/apps/$AC_APP_NAME/image/id")"
echo "annotations $(wget -qO- "$u/pod/annotations")"
echo "manifest $(wget -qO- "$u/pod/manifest")"
echo "image-manifest $(wget -qO- "$u/apps/$AC_APP_NAME/image/manifest")"
echo "app-annotations $(wget -qO- "$u/apps/$AC_APP_NAME/annotations")"
echo "sig $(wget -qO- --post-data='content=hello%20pod' "$u/pod/hmac/sign")"
wget -qO- "$u/apps/other/annotations" 2>&1 || echo "other-app refused"
wget -qO- "${AC_METADATA_URL%/*}/0123456789abcdef0123456789abcdef/acMetadata/v1/pod/uuid" 2>&1 || echo "bad-token refused"
wget -qO- "$u/pod/nothing" 2>&1 || echo "unknown refused"
S
out=$(rocket run --name=mdsa --mds-register --annotation=team=blue --volume s,kind=host,source="$fx" \
        "$img" --mount volume=s,target=/s --exec /bin/sh -- /s/a.sh)
uuid_a=$(rocket status --format=json mdsa | jq -r .uuid)
field() { sed -n "s/^$1 //p" <<<"$out"; }
[[ "$(field url)" =~ ^http://172\.16\.28\.1:18112/[0-9a-f]{32}$ ]]
assert_eq "$(field uuid)" "$uuid_a"
assert_eq "$(field image)" "$(rocket image inspect "$img" | jq -r .id)"
assert_eq "$(field annotations)" '[{"name":"team","value":"blue"}]'
assert_eq "$(field manifest | jq -c '[.acKind, .apps[0].name, .apps[0].image.id == "'"$(field image)"'", .annotations[0].value]')" \
        '["PodManifest","busybox",true,"blue"]'
assert_eq "$(field image-manifest | jq .schemaVersion)" 2
assert_eq "$(field app-annotations)" '[]'
assert_in "other-app refused" "$out"
assert_in "404" "$out"
assert_in "bad-token refused" "$out"
assert_in "403" "$out"
assert_in "unknown refused" "$out"
# The signature is HMAC-SHA512 of the content under pod A's key, which only the service (root) holds.
token_a=$(cat "$ROCKET_DIR/pods/run/$uuid_a/mds-token")
[ "$(stat -c %a "$ROCKET_DIR/pods/run/$uuid_a/mds-token")" = 600 ]
[ "$(stat -c %a /run/rocket/metadata/"$token_a")" = 600 ]
key_hex=$(jq -r .key /run/rocket/metadata/"$token_a" | base64 -d | od -An -tx1 | tr -d ' \n')
assert_eq "$(field sig)" "$(printf 'hello pod' | openssl dgst -sha512 -mac HMAC -macopt hexkey:"$key_hex" -binary | base64 -w0)"
sig_a=$(field sig)

# A's token is nobody's once A has exited.
assert_eq 403 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:18112/$token_a/acMetadata/v1/pod/uuid")"

# Pod B (on the host's network: the service at 127.0.0.1) verifies A's signature, refuses a forged one, and
# cannot read A's app by name.
cat >"$fx/b.sh" <<'S'
u=$AC_METADATA_URL/acMetadata/v1
echo "url $AC_METADATA_URL"
enc() { printf %s "$1" | sed 's/%/%25/g; s/+/%2B/g; s/\//%2F/g; s/=/%3D/g; s/ /%20/g'; }
wget -qO- --post-data="content=hello%20pod&uuid=$1&signature=$(enc "$2")" "$u/pod/hmac/verify" && echo "verified"
wget -qO- --post-data="content=hello%20pot&uuid=$1&signature=$(enc "$2")" "$u/pod/hmac/verify" 2>&1 || echo "forgery refused"
wget -qO- "$u/apps/busybox/image/id" >/dev/null && echo "own app"
wget -qO- "$u/pod/uuid"
S
out=$(rocket run --name=mdsb --net=host --mds-register --volume s,kind=host,source="$fx" \
        "$img" --name=other --mount volume=s,target=/s --exec /bin/sh -- /s/b.sh "$uuid_a" "$sig_a")
[[ "$(field url)" =~ ^http://127\.0\.0\.1:18112/[0-9a-f]{32}$ ]]
assert_in "verified" "$out"
assert_in "forgery refused" "$out"
assert_not_in "own app" "$out"                   # B's app is "other": A's app name is not B's
assert_eq "$(tail -n1 <<<"$out")" "$(rocket status --format=json mdsb | jq -r .uuid)"

# Registration is root's: the socket is root's alone, and the service checks the peer too.
[ "$(stat -c %a /run/rocket/metadata.sock)" = 600 ]
assert_not setpriv --reuid=65534 --regid=65534 --clear-groups curl -sf --unix-socket /run/rocket/metadata.sock \
        -d "uuid=$uuid_a&dir=$ROCKET_DIR" http://localhost/register
assert_eq 400 "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket /run/rocket/metadata.sock \
        -d "uuid=00000000-0000-0000-0000-000000000000&dir=$ROCKET_DIR" http://localhost/register)"

# The service restarts without losing registrations (they are files); gc'd pods' registrations go.
rocket run --name=mdsc --mds-register "$img" --exec /bin/sleep -- 1000 >/dev/null 2>&1 &
wait_until "rocket status --wait-ready=1s mdsc >/dev/null 2>&1"
uuid_c=$(rocket status --format=json mdsc | jq -r .uuid)
token_c=$(cat "$ROCKET_DIR/pods/run/$uuid_c/mds-token")
systemctl restart rocket-metadata.service
assert_eq "$uuid_c" "$(curl -s "http://127.0.0.1:18112/$token_c/acMetadata/v1/pod/uuid")"
# A command entered into the pod has the app's $AC_METADATA_URL, and reaches the service with it.
assert_eq "$uuid_c" "$(rocket enter mdsc /bin/sh -c 'wget -qO- "$AC_METADATA_URL/acMetadata/v1/pod/uuid"')"
# A sandbox registered: an app added later gets it too; an image's own AC_METADATA_URL cannot replace it.
rocket app sandbox --name=mdssb --mds-register >/dev/null 2>&1 &
wait_until "rocket status --wait-ready=1s mdssb >/dev/null 2>&1"
rocket app add mdssb "$img" --name=late --environment=AC_METADATA_URL=http://evil.example/ --exec /bin/sh -- \
        -c 'wget -qO- "$AC_METADATA_URL/acMetadata/v1/apps/late/image/id"; echo; exec sleep 1000'
rocket app start mdssb --app=late
wait_until "rocket logs --no-prefix mdssb --app=late | grep -q sha256:"
assert_eq "$(rocket logs --no-prefix mdssb --app=late)" "$(rocket image inspect "$img" | jq -r .id)"
rocket stop mdssb >/dev/null
rocket stop mdsc >/dev/null
wait
rocket gc --grace-period=0 >/dev/null
rocket run --mds-register "$img" --exec /bin/true >/dev/null  # a registration sweeps the gone pods'
[ ! -e /run/rocket/metadata/"$token_a" ]
[ ! -e /run/rocket/metadata/"$token_c" ]

# --- ACE-style (appc's executor validator, as rkt ran it): a main app and a sidekick, two ACIs whose mount
# points of one name share the implicit volume, the main app's pre-start handler run first, its metadata read
ace_image() {   # NAME EXEC-SCRIPT [PRE-START-SCRIPT]
        mkdir -p "$fx/ace-$1"
        rocket image render --rootfs-only "$img" "$fx/ace-$1/rootfs" >/dev/null
        jq -n --arg n "example.com/ace-$1" --arg run "$2" --arg pre "${3:-}" '
          { acKind: "ImageManifest", acVersion: "0.8.11", name: $n,
            labels: [ { name: "os", value: "linux" }, { name: "arch", value: "amd64" } ],
            annotations: [ { name: "ace-role", value: $n } ],
            app: ({ exec: [ "/bin/sh", "-c", $run ], user: "0", group: "0",
                    mountPoints: [ { name: "database", path: "/db" } ] } +
                  (if $pre == "" then {} else { eventHandlers: [ { name: "pre-start", exec: [ "/bin/sh", "-c", $pre ] } ] } end)) }' \
          >"$fx/ace-$1/manifest"
        tar -C "$fx/ace-$1" --numeric-owner -cf "$fx/ace-$1.aci" manifest rootfs
        rocket fetch --name="ace-$1:test" "$fx/ace-$1.aci" >/dev/null
}
ace_image sidekick 'echo from-sidekick >/db/sidekick'
ace_image main 'i=0; until [ -e /db/sidekick ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i+1)); done
        u=$AC_METADATA_URL/acMetadata/v1
        echo "prestart $(cat /prestart-ran)"
        echo "shared $(cat /db/sidekick)"
        echo "role $(wget -qO- "$u/apps/$AC_APP_NAME/annotations")"
        echo "apps $(wget -qO- "$u/pod/manifest" | grep -o "\"name\":\"ace-[a-z]*\"" | tr "\n" " ")"' \
        'echo yes >/prestart-ran'
out=$(rocket run --mds-register ace-main:test --- ace-sidekick:test)
assert_in "prestart yes" "$out"
assert_in "shared from-sidekick" "$out"
assert_in 'role [{"name":"ace-role","value":"example.com/ace-main"}]' "$out"
assert_in '"name":"ace-main" "name":"ace-role" "name":"ace-sidekick"' "$out"     # the apps, each with its image's annotation

systemctl stop rocket-metadata.service rocket-metadata.socket
rocket gc --grace-period=0 >/dev/null
rm -rf "$fx"
