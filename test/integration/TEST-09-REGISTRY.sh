#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# docker:// pulls from Debian's docker-registry (distribution 2.8) on loopback in the test host, images pushed
# with skopeo: plain HTTP, TLS with a CA made here, htpasswd Basic auth, the token flow with a token service
# of our own, a multi-platform index, a schema 1 manifest, dedup across pulls and images, concurrent pulls,
# a wrong blob, a pull killed mid-layer and one whose connection breaks, login/logout, pull policies, and a
# pod run straight from a registry.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
command -v docker-registry >/dev/null || { echo "docker-registry is not installed"; exit 1; }
fixtures=$ROCKET_TEST_DIR/fixtures
reg=$fx/reg
mkdir -p "$reg/data"
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -f /etc/rocket/policy.json   # the later tests' host has the shipped policy again
}
trap cleanup EXIT

# --- Certificates: a CA and a server certificate for 127.0.0.1; a self-signed token signing certificate.
cd "$reg"
export OPENSSL_CONF=/dev/null        # the test host's /etc is empty
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rocket-test-ca -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:aci.test\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext \
        -out server.crt 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rocket-test-tokens -keyout sign.key \
        -out sign.crt 2>/dev/null
# htpasswd (bcrypt) for user alice, password wonderland.
python3 -W ignore -c 'import crypt; print("alice:" + crypt.crypt("wonderland", crypt.mksalt(crypt.METHOD_BLOWFISH)).replace("$2b$", "$2y$", 1))' >htpasswd
cd /

# start_registry NAME PORT YAML_EXTRA: a registry on 127.0.0.1:PORT over the shared storage.
start_registry() {
        local name=$1 port=$2 extra=$3 scheme=http
        cat >"$reg/$name.yml" <<EOF
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $reg/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$extra
EOF
        docker-registry serve "$reg/$name.yml" >"$reg/$name.log" 2>&1 &
        pids+=($!)
        [[ "$extra" == *certificate* ]] && scheme=https
        wait_until "curl -sk -o /dev/null $scheme://127.0.0.1:$port/v2/"
}
tls="  tls:
    certificate: $reg/server.crt
    key: $reg/server.key"
start_registry plain 5000 ""
start_registry tls 5001 "$tls"
start_registry basic 5002 "$tls
auth:
  htpasswd:
    realm: rocket-test
    path: $reg/htpasswd"
start_registry token 5003 "$tls
auth:
  token:
    realm: https://127.0.0.1:5004/token
    service: rocket-test-registry
    issuer: rocket-test-issuer
    rootcertbundle: $reg/sign.crt"
start_registry schema1 5007 "compatibility:
  schema1:
    enabled: true"
python3 "$fixtures/token-issuer.py" 5004 "$reg/server.crt" "$reg/server.key" "$reg/sign.crt" "$reg/sign.key" \
        alice wonderland 2>"$reg/issuer.log" &
pids+=($!)
wait_until "curl -sk -o /dev/null https://127.0.0.1:5004/token"
python3 "$fixtures/regproxy.py" 5005 5000 --rate 4000000 &
pids+=($!)
python3 "$fixtures/regproxy.py" 5006 5000 --cut-after 3000000 &
pids+=($!)
wait_until "curl -s -o /dev/null http://127.0.0.1:5005/v2/ && curl -s -o /dev/null http://127.0.0.1:5006/v2/"

# --- Images, pushed through the plain registry (all share its storage).
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$reg/policy.json"
push() { skopeo --policy "$reg/policy.json" copy -q --dest-tls-verify=false "$@"; }
python3 "$fixtures/oci-derive.py" add-layer "$fx/busybox" "$fx/app" usr/share/app/data 200000
python3 "$fixtures/oci-derive.py" add-layer "$fx/busybox" "$fx/big" usr/share/big 24000000 --random
python3 "$fixtures/oci-derive.py" add-layer "$fx/busybox" "$fx/bad" usr/share/bad 100000 --random
read -r amd64 arm64 < <(python3 "$fixtures/oci-derive.py" multi-arch "$fx/busybox" "$fx/multi")
push "oci:$fx/busybox:latest" docker://127.0.0.1:5000/test/busybox:1
push "oci:$fx/busybox:latest" docker://127.0.0.1:5000/public/busybox:1
push "oci:$fx/app:latest" docker://127.0.0.1:5000/test/app:1
push "oci:$fx/big:latest" docker://127.0.0.1:5000/test/big:1
push "oci:$fx/bad:latest" docker://127.0.0.1:5000/test/bad:1
push --all "oci:$fx/multi:latest" docker://127.0.0.1:5000/test/multi:latest
push --format v2s1 "oci:$fx/busybox:latest" docker://127.0.0.1:5007/test/old:1
bb_id=$(jq -r '.manifests[0].digest' "$fx/busybox/index.json")
big_id=$(jq -r '.manifests[0].digest' "$fx/big/index.json")
blob_gets() { grep -c "\"GET /v2/$1/blobs/" "$reg/plain.log" || true; }

# A store of its own: busybox:test is in /var/lib/rocket already, and its layer would not be downloaded.
export ROCKET_DIR=$fx/store
# Transport, not trust, is tested here (TEST-10 has signatures): a policy that accepts every docker:// image,
# as skopeo's and podman's default one does.
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >/etc/rocket/policy.json

# --- Plain HTTP: only when asked for; the ID (the manifest's digest) alone on stdout; named as typed,
# normalised.
assert_fails_with 254 "TLS with 127.0.0.1:5000 failed" rocket fetch docker://127.0.0.1:5000/test/busybox:1
out=$(rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/busybox:1 2>"$fx/err")
assert_eq "$out" "$bb_id"
assert_in "layer sha256:" "$(cat "$fx/err")"        # one line per layer when stderr is no terminal
assert_in "127.0.0.1:5000/test/busybox:1" "$(rocket image list)"
assert_in "registry" "$(rocket image list)"
rocket image verify

# Pull twice: the second downloads no blob. A second image on the same base downloads only what it adds.
n=$(blob_gets test/busybox)
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/busybox:1)" "$bb_id"
assert_eq "$(blob_gets test/busybox)" "$n" "a second pull downloaded blobs"
rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/app:1
assert_eq "$(blob_gets test/app)" 2 "the app image downloads its config and its own layer only"
assert_eq "$(ls "$ROCKET_DIR/store/layers" | wc -l)" 2

# Pull policies: new uses the store without asking; never refuses what is missing; update asks again.
gets=$(grep -c '"GET /v2/test/busybox/manifests/' "$reg/plain.log")
rocket fetch -q --pull-policy=new docker://127.0.0.1:5000/test/busybox:1
assert_eq "$(grep -c '"GET /v2/test/busybox/manifests/' "$reg/plain.log")" "$gets"
assert_fails_with 254 "pull policy is 'never'" rocket fetch --pull-policy=never docker://127.0.0.1:5000/test/none:1
assert_fails_with 2 "invalid pull policy" rocket fetch --pull-policy=sometimes docker://127.0.0.1:5000/test/busybox:1

# A pod straight from the registry (run's default policy: new, pulls what is missing).
rocket image rm 127.0.0.1:5000/test/busybox:1
out=$(rocket run --net=host --insecure-options=http docker://127.0.0.1:5000/test/busybox:1 \
        --exec /bin/echo -- pulled-and-ran 2>/dev/null)
assert_in "pulled-and-ran" "$out"
cat >/etc/rocket-test.pod <<EOF
[Pod]
Network=host
InsecureOptions=http
PullPolicy=update
[App data]
Image=docker://127.0.0.1:5000/test/app:1
Exec=/bin/cat
Args=/usr/share/app/data
EOF
out=$(rocket run --pod=/etc/rocket-test.pod 2>&1)
assert_in "rocket rocket" "${out:0:2000}"

# --- Errors: one line each, the store untouched.
assert_fails_with 254 "has no 127.0.0.1:5000/test/nothere:1 (manifest unknown)" \
        rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/nothere:1
assert_fails_with 254 "cannot reach 127.0.0.1:5999" rocket fetch --insecure-options=http docker://127.0.0.1:5999/x:1
assert_fails_with 254 "Invalid image reference" rocket fetch docker://127.0.0.1:5000/Test/UPPER:1
assert_fails_with 254 "Docker schema 1 manifest" rocket fetch --insecure-options=http docker://127.0.0.1:5007/test/old:1
# A registry that serves a wrong blob: refused, nothing kept (no image, no layer, no partial download).
bad_layer=$(jq -r '.layers[-1].digest' "$fx/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$fx/bad/index.json" | cut -d: -f2)" | cut -d: -f2)
bad_data=$reg/data/docker/registry/v2/blobs/sha256/${bad_layer:0:2}/$bad_layer/data
head -c "$(stat -c %s "$bad_data")" /dev/urandom >"$fx/garbage"
cp "$fx/garbage" "$bad_data"
layers=$(ls "$ROCKET_DIR/store/layers" | wc -l)
assert_fails_with 254 "blob sha256:$bad_layer: the registry sent content whose digest is" \
        rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/bad:1
assert_eq "$(ls "$ROCKET_DIR/store/layers" | wc -l)" "$layers"
[ -z "$(ls "$ROCKET_DIR/store/tmp")" ]
assert_not_in test/bad "$(rocket image list)"
rocket image verify

# --- TLS: the system CAs do not know ours; --insecure-options=tls, or the CA in certs.d.
assert_fails_with 254 "TLS with 127.0.0.1:5001 failed" rocket fetch docker://127.0.0.1:5001/test/busybox:1
assert_eq "$(rocket fetch -q --insecure-options=tls docker://127.0.0.1:5001/test/busybox:1)" "$bb_id"
mkdir -p /etc/rocket/certs.d/127.0.0.1:5001 /etc/rocket/certs.d/127.0.0.1:5002 \
        /etc/rocket/certs.d/127.0.0.1:5003 /etc/rocket/certs.d/127.0.0.1:5004
for d in /etc/rocket/certs.d/*; do cp "$reg/ca.crt" "$d/ca.crt"; done
assert_eq "$(rocket fetch -q docker://127.0.0.1:5001/test/busybox:1)" "$bb_id"
# Never downgraded: plain HTTP is not tried when TLS fails.
assert_fails_with 254 "TLS with 127.0.0.1:5000 failed" rocket fetch docker://127.0.0.1:5000/test/busybox:1

# --- Basic auth: no credentials, wrong ones (and where they came from), login, rkt's auth.d, logout.
assert_fails_with 254 "without credentials (none found for 127.0.0.1:5002" \
        rocket fetch docker://127.0.0.1:5002/test/busybox:1
assert_fails_with 254 "Login to 127.0.0.1:5002 failed" \
        sh -c 'echo wrong | rocket login -u alice --password-stdin 127.0.0.1:5002'
[ ! -e /etc/rocket/auth.json ]
assert_fails_with 2 "--password-stdin" rocket login -u alice 127.0.0.1:5002 </dev/null
echo wonderland | rocket login -u alice --password-stdin 127.0.0.1:5002
assert_eq "$(stat -c %a /etc/rocket/auth.json)" 600
assert_eq "$(jq -r '.auths["127.0.0.1:5002"].auth' /etc/rocket/auth.json | base64 -d)" alice:wonderland
assert_not grep -q wonderland /etc/rocket/auth.json
assert_eq "$(rocket fetch -q docker://127.0.0.1:5002/test/busybox:1)" "$bb_id"
rocket logout 127.0.0.1:5002
assert_fails_with 254 "Not logged in to 127.0.0.1:5002" rocket logout 127.0.0.1:5002
assert_fails_with 254 "without credentials" rocket fetch docker://127.0.0.1:5002/test/busybox:1
mkdir -p /etc/rocket/auth.d
cat >/etc/rocket/auth.d/test.json <<EOF
{"rktKind": "dockerAuth", "rktVersion": "v1", "registries": ["127.0.0.1:5002"],
 "credentials": {"user": "alice", "password": "not-it"}}
EOF
assert_fails_with 254 "with the credentials of user 'alice' from /etc/rocket/auth.d/test.json" \
        rocket fetch docker://127.0.0.1:5002/test/busybox:1
sed -i 's/not-it/wonderland/' /etc/rocket/auth.d/test.json
assert_eq "$(rocket fetch -q docker://127.0.0.1:5002/test/busybox:1)" "$bb_id"
rm /etc/rocket/auth.d/test.json
mkdir -p "$fx/home/.docker"
printf '{"auths": {"https://127.0.0.1:5002": {"auth": "%s"}}}\n' "$(printf alice:wonderland | base64)" \
        >"$fx/home/.docker/config.json"
assert_eq "$(HOME=$fx/home rocket fetch -q docker://127.0.0.1:5002/test/busybox:1)" "$bb_id"

# --- The token flow: anonymous pulls of public repositories; private ones need credentials; one token per
# pull, reused for every blob.
export ROCKET_DIR=$fx/store-token
assert_eq "$(rocket fetch -q docker://127.0.0.1:5003/public/busybox:1)" "$bb_id"
assert_fails_with 254 "127.0.0.1:5003 refused access to" rocket fetch docker://127.0.0.1:5003/test/app:1
echo wonderland | rocket login -u alice --password-stdin 127.0.0.1:5003
: >"$reg/issuer.log"
rocket fetch -q docker://127.0.0.1:5003/test/app:1
assert_eq "$(grep -c 'token for repository:test/app:pull' "$reg/issuer.log")" 1
rocket logout 127.0.0.1:5003
export ROCKET_DIR=$fx/store

# --- A multi-platform index: this machine's platform, another on request, and what it has when none fits.
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/multi)" "$amd64"
assert_eq "$(rocket fetch -q --insecure-options=http --platform=linux/arm64 docker://127.0.0.1:5000/test/multi)" "$arm64"
assert_fails_with 254 "has no image for linux/s390x (it has: linux/amd64, linux/arm64/v8)" \
        rocket fetch --insecure-options=http --arch=s390x docker://127.0.0.1:5000/test/multi

# --- Concurrency: three pulls of the same image at once end with one copy, and a clean store.
export ROCKET_DIR=$fx/store-concurrent
pullers=()
for i in 1 2 3; do
        rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/big:1 >"$fx/c$i" &
        pullers+=($!)
done
for p in "${pullers[@]}"; do wait "$p"; done
for i in 1 2 3; do assert_eq "$(cat "$fx/c$i")" "$big_id"; done
assert_eq "$(ls "$ROCKET_DIR/store/layers" | wc -l)" 2
rocket image verify
rocket image gc
[ -z "$(ls "$ROCKET_DIR/store/tmp")" ]

# --- A pull killed mid-layer resumes from what it has, with a Range request, and ends verified.
export ROCKET_DIR=$fx/store-resume
rocket fetch -q --insecure-options=http docker://127.0.0.1:5005/test/big:1 >/dev/null &
puller=$!
partial() { stat -c %s "$ROCKET_DIR"/store/tmp/partial-sha256-* 2>/dev/null | sort -n | tail -1; }
wait_until '[ "$(partial || echo 0)" -gt 2000000 ]' 30
kill -9 "$puller"
wait "$puller" || true
had=$(partial)
[ "$had" -lt 24000000 ]
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/big:1)" "$big_id"
grep -q '"GET /v2/test/big/blobs/sha256:[0-9a-f]* HTTP/1.1" 206' "$reg/plain.log"
rocket image verify
[ -z "$(ls "$ROCKET_DIR/store/tmp" | grep partial)" ] || exit 1

# A connection that breaks mid-blob: the pull resumes by itself.
export ROCKET_DIR=$fx/store-cut
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5006/test/big:1)" "$big_id"
rocket image verify
[ "$(grep -c '"GET /v2/test/big/blobs/sha256:[0-9a-f]* HTTP/1.1" 206' "$reg/plain.log")" -ge 2 ]

# --- Debian's own nginx, pushed to the registry, run straight from it, answers on its port.
debs=/var/cache/rocket-test/debs
[ -d "$debs" ] || { echo "no $debs: run .ci/install-deps.sh (it downloads Debian's nginx packages)"; exit 1; }
bash "$fixtures/mknginx.sh" "$debs" "$fx/busybox" "$fx/nginx"
push "oci:$fx/nginx:latest" docker://127.0.0.1:5000/debian/nginx:1.22
export ROCKET_DIR=$fx/store
rocket run --name=nginx --insecure-options=http --port=8080:80 docker://127.0.0.1:5000/debian/nginx:1.22 \
        >"$fx/nginx.log" 2>&1 &
wait_until "curl -s http://127.0.0.1:8080/ | grep -q \"hello from Debian's nginx\"" 60
assert_in "debian/nginx:1.22" "$(rocket list)"
rocket stop nginx >/dev/null
wait_until "! rocket list --no-legend | grep -q '^[^ ]* *nginx .*running'" 30

# --- The proxy in http_proxy is used, as libcurl reads it.
python3 "$fixtures/http-proxy.py" 3128 2>"$reg/proxy.log" &
pids+=($!)
wait_until "curl -s -o /dev/null http://127.0.0.1:3128/"
export ROCKET_DIR=$fx/store-proxy
assert_eq "$(http_proxy=http://127.0.0.1:3128 rocket fetch -q --insecure-options=http \
        docker://127.0.0.1:5000/test/app:1)" "$(jq -r '.manifests[0].digest' "$fx/app/index.json")"
grep -q "proxied GET http://127.0.0.1:5000/v2/test/app/manifests/1" "$reg/proxy.log"
grep -q "proxied GET http://127.0.0.1:5000/v2/test/app/blobs/" "$reg/proxy.log"
rocket image verify

# --- A full disk: one line naming the blob and the reason, the store as it was.
mkdir -p "$fx/small"
mount -t tmpfs -o size=16m tmpfs "$fx/small"
export ROCKET_DIR=$fx/small/rocket
rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/busybox:1 >/dev/null
assert_fails_with 254 "No space left on device" rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/big:1
rocket image verify
assert_eq "$(rocket image list --no-legend | wc -l)" 1
rocket image gc >/dev/null
umount "$fx/small"

# --- ACIs over HTTPS, by URL and through appc meta discovery (on the page of the name, or of a level up).
export ROCKET_DIR=$fx/store-aci
echo "127.0.0.1 aci.test" >>/etc/hosts
www=$fx/www
mkdir -p "$www/images/aci.test" "$www/busybox" "$fx/aci/rootfs"
tar -xzf "$fx/busybox/blobs/sha256/$(jq -r '.layers[0].digest' "$fx/busybox/blobs/sha256/${bb_id#sha256:}" | cut -d: -f2)" \
        -C "$fx/aci/rootfs"
mkaci() {       # mkaci NAME VERSION FILE
        cat >"$fx/aci/manifest" <<EOF
{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "$1",
 "labels": [{"name": "version", "value": "$2"}, {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
 "app": {"exec": ["/bin/echo", "aci $1 $2"], "user": "0", "group": "0"}}
EOF
        tar -C "$fx/aci" --numeric-owner -czf "$3" manifest rootfs
}
mkaci aci.test/busybox 1.0 "$www/images/aci.test/busybox-1.0-linux-amd64.aci"
echo "not really a signature" >"$www/images/aci.test/busybox-1.0-linux-amd64.aci.asc"
mkaci aci.test/other 2.0 "$www/images/aci.test/other-2.0-linux-amd64.aci"
cat >"$www/busybox/index.html" <<EOF
<html><head><meta name="ac-discovery" content="aci.test/busybox https://aci.test/images/{name}-{version}-{os}-{arch}.{ext}">
</head></html>
EOF
cat >"$www/index.html" <<EOF
<!DOCTYPE html><html><head><title>aci.test</title>
<meta name="ac-discovery" content="aci.test https://aci.test/images/{name}-{version}-{os}-{arch}.{ext}">
<meta name="ac-discovery-pubkeys" content="aci.test https://aci.test/pubkeys.gpg"></head><body></body></html>
EOF
python3 "$fixtures/https-serve.py" 127.0.0.1 443 "$www" "$reg/server.crt" "$reg/server.key" 2>"$reg/https.log" &
pids+=($!)
mkdir -p /etc/rocket/certs.d/aci.test
cp "$reg/ca.crt" /etc/rocket/certs.d/aci.test/
wait_until "curl -s --cacert $reg/ca.crt -o /dev/null https://aci.test/"
# Transport only here (TEST-10 checks signatures): unsigned, and a .asc that is none.
id=$(rocket fetch -q --insecure-options=image https://aci.test/images/aci.test/busybox-1.0-linux-amd64.aci)
[ -s "$ROCKET_DIR/store/images/sha256-${id#sha256:}.asc" ]
assert_in "aci.test/busybox:1.0" "$(rocket image list)"
rocket image rm "$id"
[ ! -e "$ROCKET_DIR/store/images/sha256-${id#sha256:}.asc" ]
assert_eq "$(rocket fetch -q --insecure-options=image aci.test/busybox:1.0)" "$id"
grep -q '"GET /busybox?ac-discovery=1' "$reg/https.log"
assert_in "aci aci.test/other 2.0" "$(rocket --insecure-options=image run --net=host aci.test/other:2.0 2>/dev/null)"
grep -q '"GET /?ac-discovery=1' "$reg/https.log"
assert_fails_with 254 "aci.test answered HTTP 404 for https://aci.test/images/aci.test/nothing-1-linux-amd64.aci" \
        rocket fetch --insecure-options=image aci.test/nothing:1
assert_fails_with 254 "--insecure-options=http" rocket fetch http://aci.test/images/aci.test/busybox-1.0-linux-amd64.aci
assert_fails_with 254 "No image is named 'nodomain'" rocket run nodomain
assert_fails_with 254 "No image is named 'aci.test/busybox:2.0'" rocket fetch --pull-policy=never aci.test/busybox:2.0
assert_fails_with 254 "the pull policy is 'never'" \
        rocket fetch --pull-policy=never https://aci.test/images/aci.test/busybox-1.0-linux-amd64.aci

# --- Members of group rocket may pull; others may not.
export ROCKET_DIR=/var/lib/rocket
useradd -M -G rocket puller-member
useradd -M puller-stranger
as() { setpriv --reuid="$(id -u "$1")" --regid="$(id -g "$1")" --init-groups env HOME=/ ROCKET_DIR=/var/lib/rocket "${@:2}"; }
assert_eq "$(as puller-member rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/app:1)" \
        "$(jq -r '.manifests[0].digest' "$fx/app/index.json")"
stranger=(setpriv --reuid="$(id -u puller-stranger)" --regid="$(id -g puller-stranger)" --init-groups)
assert_fails_with 254 "Permission denied" "${stranger[@]}" env ROCKET_DIR=/var/lib/rocket \
        rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/app:1
# A member may write in the store's tmp/, but a partial download planted there is replaced, not trusted.
big_layer=$(jq -r '.layers[-1].digest' "$fx/big/blobs/sha256/${big_id#sha256:}" | cut -d: -f2)
setpriv --reuid="$(id -u puller-member)" --regid="$(id -g puller-member)" --init-groups \
        sh -c "head -c 1000000 /dev/urandom >/var/lib/rocket/store/tmp/partial-sha256-$big_layer"
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/big:1)" "$big_id"
rocket image verify
# What a member pulled is extracted by root when a pod first needs it.
assert_in "rocket rocket" "$(rocket run --net=host 127.0.0.1:5000/test/app:1 --exec /bin/cat -- /usr/share/app/data \
        2>/dev/null | head -c 100)"
