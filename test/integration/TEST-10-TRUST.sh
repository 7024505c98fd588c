#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Image signatures: keys made here with gpg, rocket trust (files, URLs, appc pubkey discovery, review, list,
# remove, root keys, group rocket-admin), signed ACIs over local HTTPS and as files, and each refusal with
# its own message: no signature, untrusted key, key for another prefix, tampered image, expired key, revoked
# key; --insecure-options=image per verb and global, as rkt's command lines carry it.
set -euxo pipefail
. "$ROCKET_TEST_DIR/integration/lib.sh"

pod_test_setup
fixtures=$ROCKET_TEST_DIR/fixtures
rm -f /etc/rocket/policy.json           # the shipped policy, whatever an earlier test left
export ROCKET_DIR=$fx/store
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        [ -n "${GNUPGHOME:-}" ] && gpgconf --kill all 2>/dev/null || true
}
trap cleanup EXIT

# --- Keys: a good one, another, one that expires in seconds, one that gets revoked.
export GNUPGHOME=$fx/gnupg OPENSSL_CONF=/dev/null
mkdir -m 0700 "$GNUPGHOME"
genkey() { gpg --batch --passphrase '' --quick-gen-key "$1 <$1@rocket.test>" rsa2048 sign "${2:-1d}" 2>/dev/null; }
fpr() { gpg --with-colons --fingerprint "$1@rocket.test" | awk -F: '/^fpr/ { print $10; exit }'; }
genkey good; genkey other; genkey expiring seconds=4; genkey revoked
for k in good other expiring revoked; do gpg --armor --export "$k@rocket.test" >"$fx/$k.pub"; done
good=$(fpr good); other=$(fpr other); expiring=$(fpr expiring); revoked=$(fpr revoked)
good_lc=$(echo "$good" | tr A-F a-f)

# --- ACIs: aci.test/signed (signed by good), aci.test/other (by other), aci.test/old (by expiring),
# aci.test/gone (by revoked), aci.test/plain (no signature), a tampered copy of signed.
www=$fx/www
mkdir -p "$www/images" "$fx/aci/rootfs"
cp -a "$fx/busybox/blobs" "$fx/bb-blobs"
man=$(jq -r '.manifests[0].digest' "$fx/busybox/index.json")
tar -xzf "$fx/busybox/blobs/sha256/$(jq -r '.layers[0].digest' "$fx/busybox/blobs/sha256/${man#sha256:}" | cut -d: -f2)" \
        -C "$fx/aci/rootfs"
mkaci() {       # mkaci NAME VERSION FILE
        printf '{"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "%s", "labels": [{"name": "version", "value": "%s"}, {"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}], "app": {"exec": ["/bin/echo", "signed %s"], "user": "0", "group": "0"}}' \
                "$1" "$2" "$1" >"$fx/aci/manifest"
        tar -C "$fx/aci" --numeric-owner -czf "$3" manifest rootfs
}
sign() { gpg --batch --yes --armor --local-user "$1@rocket.test" --detach-sign --output "$2.asc" "$2"; }
for n in signed other old gone plain; do mkaci "aci.test/$n" 1.0 "$www/images/$n-1.0-linux-amd64.aci"; done
sign good "$www/images/signed-1.0-linux-amd64.aci"
sign other "$www/images/other-1.0-linux-amd64.aci"
sign expiring "$www/images/old-1.0-linux-amd64.aci"
sign revoked "$www/images/gone-1.0-linux-amd64.aci"
mkaci aci.test/tampered 1.0 "$www/images/tampered-1.0-linux-amd64.aci"
sign good "$www/images/tampered-1.0-linux-amd64.aci"
echo "extra" >>"$www/images/tampered-1.0-linux-amd64.aci"
cp "$fx/good.pub" "$www/good.pub"
cat >"$www/index.html" <<EOF
<html><head>
<meta name="ac-discovery" content="aci.test https://aci.test/images/{name}-{version}-{os}-{arch}.{ext}">
<meta name="ac-discovery-pubkeys" content="aci.test/signed https://aci.test/good.pub">
</head></html>
EOF
# The names are aci.test/NAME: the template's {name} holds the domain, so files are under images/aci.test/.
mkdir -p "$www/images/aci.test"
for f in "$www"/images/*-1.0-linux-amd64.aci*; do ln -s "../$(basename "$f")" "$www/images/aci.test/$(basename "$f")"; done

# --- HTTPS on aci.test with a CA of the test's.
cd "$fx"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rocket-test-ca -keyout ca.key -out ca.crt 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=aci.test -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:aci.test\n' >san.ext
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt 2>/dev/null
cd /
echo "127.0.0.1 aci.test" >>/etc/hosts
mkdir -p /etc/rocket/certs.d/aci.test
cp "$fx/ca.crt" /etc/rocket/certs.d/aci.test/
python3 "$fixtures/https-serve.py" 127.0.0.1 443 "$www" "$fx/server.crt" "$fx/server.key" 2>"$fx/https.log" &
pids+=($!)
wait_until "curl -s --cacert $fx/ca.crt -o /dev/null https://aci.test/"

# --- Nothing trusted yet: refused, saying which key signed and which prefix it would need.
assert_fails_with 254 "signed by key $good, which is not trusted for 'aci.test/signed' (rocket trust --prefix=aci.test/signed" \
        rocket fetch aci.test/signed:1.0
assert_fails_with 254 "has no signature" rocket fetch aci.test/plain:1.0
[ -z "$(rocket image list --no-legend)" ]

# --- rocket trust: no terminal, no review; a stranger may not; discovery of the prefix's keys.
assert_fails_with 254 "no terminal to review key $good" rocket trust --prefix=aci.test/signed "$fx/good.pub" </dev/null
useradd -M trust-stranger
assert_fails_with 254 "needs root or group rocket-admin" \
        setpriv --reuid="$(id -u trust-stranger)" --regid="$(id -g trust-stranger)" --init-groups \
        rocket trust --prefix=aci.test/signed --skip-fingerprint-review "$fx/good.pub"
# A member of rocket-admin may; tmpfiles made the directory for that group.
useradd -M -G rocket-admin trust-admin
assert_eq "$(stat -c '%a %G' /etc/rocket/trustedkeys)" "2775 rocket-admin"
install -m 0644 "$fx/other.pub" /tmp/other.pub         # $fx is root's alone
setpriv --reuid="$(id -u trust-admin)" --regid="$(id -g trust-admin)" --init-groups \
        rocket trust --prefix=aci.test/member --skip-fingerprint-review /tmp/other.pub 2>/dev/null
[ -s "/etc/rocket/trustedkeys/prefix.d/aci.test/member/$(echo "$other" | tr A-F a-f)" ]
out=$(rocket trust --prefix=aci.test/signed --skip-fingerprint-review 2>&1)
assert_in "Key $good from https://aci.test/good.pub" "$out"
assert_in "good <good@rocket.test>" "$out"
[ -s "/etc/rocket/trustedkeys/prefix.d/aci.test/signed/$good_lc" ]
assert_in "aci.test/signed  $good_lc" "$(rocket trust --list)"

# --- Trusted: fetched, and image list/inspect say by which key.
id=$(rocket fetch -q aci.test/signed:1.0)
assert_eq "$(rocket image list --format=json | jq -r --arg id "$id" '.[] | select(.id == $id) | .signedBy')" "$good"
assert_eq "$(rocket image inspect "$id" | jq -r .signedBy)" "$good"
assert_in "signed aci.test/signed" "$(rocket run --net=host aci.test/signed:1.0 2>/dev/null)"
# Under systemd, the pod's events say which key vouched for its image.
systemd-run --wait --quiet -E ROCKET_DIR="$ROCKET_DIR" rocket run --net=host aci.test/signed:1.0
wait_until "journalctl -q IMAGE_SIGNED_BY=$good MESSAGE_ID=30dba63510654eb1ba349e52d3d9ef34 | grep -q ." 10

# --- Tampered, another prefix's key, a root key.
rocket trust --prefix=aci.test/tampered --skip-fingerprint-review "$fx/good.pub" 2>/dev/null
assert_fails_with 254 "does not match its content" rocket fetch aci.test/tampered:1.0
rocket trust --prefix=example.org --skip-fingerprint-review "$fx/other.pub" 2>/dev/null
assert_fails_with 254 "signed by key $other, which is not trusted for 'aci.test/other'" rocket fetch aci.test/other:1.0
rocket trust --root --skip-fingerprint-review "$fx/other.pub" 2>/dev/null
rocket fetch -q aci.test/other:1.0 >/dev/null
assert_in "(root)" "$(rocket trust --list)"

# --- An expired key, a key revoked after it was trusted.
rocket trust --prefix=aci.test/old --skip-fingerprint-review "$fx/expiring.pub" 2>/dev/null
sleep 5
assert_fails_with 254 "signed by key $expiring, which has expired" rocket fetch aci.test/old:1.0
rocket trust --prefix=aci.test/gone --skip-fingerprint-review "$fx/revoked.pub" 2>/dev/null
sed '/^:/s/^://' "$GNUPGHOME/openpgp-revocs.d/$revoked.rev" | gpg --batch --import 2>/dev/null
gpg --armor --export revoked@rocket.test \
        >"/etc/rocket/trustedkeys/prefix.d/aci.test/gone/$(echo "$revoked" | tr A-F a-f)"
assert_fails_with 254 "signed by key $revoked, which is revoked" rocket fetch aci.test/gone:1.0
assert_fails_with 254 "is revoked; not trusting it" \
        rocket trust --prefix=aci.test/gone --skip-fingerprint-review "/etc/rocket/trustedkeys/prefix.d/aci.test/gone/$(echo "$revoked" | tr A-F a-f)"

# --- Removing a key: no longer trusted.
rocket trust --remove "$good"
assert_fails_with 254 "not trusted for 'aci.test/signed'" rocket fetch --pull-policy=update \
        https://aci.test/images/aci.test/signed-1.0-linux-amd64.aci
assert_fails_with 254 "no trusted key has the fingerprint" rocket trust --remove "$good"

# --- Local files are taken as given, unless a signature is asked for; --signature= checks one.
rocket fetch -q "$www/images/plain-1.0-linux-amd64.aci" >/dev/null
rocket trust --prefix=aci.test --skip-fingerprint-review "$fx/good.pub" 2>/dev/null
rocket fetch -q --signature="$www/images/signed-1.0-linux-amd64.aci.asc" "$www/images/signed-1.0-linux-amd64.aci" >/dev/null
assert_fails_with 254 "does not match its content" rocket fetch --signature="$www/images/signed-1.0-linux-amd64.aci.asc" \
        "$www/images/tampered-1.0-linux-amd64.aci"

# --- --insecure-options=image, per verb and global (rkt's form), also in rocket version.
rocket fetch -q --insecure-options=image aci.test/plain:1.0 >/dev/null
rocket --insecure-options=image fetch -q https://aci.test/images/aci.test/gone-1.0-linux-amd64.aci >/dev/null
assert_in "Insecure options: http,image" "$(rocket --insecure-options=image,http version)"
assert_in "signed aci.test/plain" "$(rocket --insecure-options=image run --net=host aci.test/plain:1.0 2>/dev/null)"
assert_fails_with 2 "unknown insecure option 'ondisk-ish'" rocket --insecure-options=ondisk-ish version
rocket image verify

# --- docker:// and the signature policy: the shipped one accepts nothing; signedBy with simple signing
# signatures in a lookaside store, as skopeo copy --sign-by writes them.
command -v docker-registry >/dev/null || { echo "docker-registry is not installed"; exit 1; }
mkdir -p "$fx/reg"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:5000\n' \
        "$fx/reg" >"$fx/registry.yml"
docker-registry serve "$fx/registry.yml" >"$fx/registry.log" 2>&1 &
pids+=($!)
wait_until "curl -s -o /dev/null http://127.0.0.1:5000/v2/"
mkdir -p /etc/rocket/registries.d /var/lib/rocket-sigs
cat >/etc/rocket/registries.d/test.yaml <<YAML
# Where skopeo writes the signatures and rocket reads them.
docker:
  127.0.0.1:5000:
    sigstore: file:///var/lib/rocket-sigs
    sigstore-staging: file:///var/lib/rocket-sigs
YAML
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$fx/skopeo-policy.json"
push() { skopeo --policy "$fx/skopeo-policy.json" --registries.d /etc/rocket/registries.d copy -q --dest-tls-verify=false "$@"; }
python3 "$fixtures/oci-derive.py" add-layer "$fx/busybox" "$fx/bb2" etc/marker 10
# The unsigned copies first: a push without signatures removes the lookaside's for that manifest.
push "oci:$fx/busybox:latest" docker://127.0.0.1:5000/test/unsigned:1
push "oci:$fx/busybox:latest" docker://127.0.0.1:5000/test/signed:copied
push --sign-by "$good" "oci:$fx/busybox:latest" docker://127.0.0.1:5000/test/signed:1
push --sign-by "$other" "oci:$fx/bb2:latest" docker://127.0.0.1:5000/test/signed:2
ls -R /var/lib/rocket-sigs | grep -q signature-1
bb_id=$(jq -r '.manifests[0].digest' "$fx/busybox/index.json")

export ROCKET_DIR=$fx/store-docker
assert_fails_with 254 "the signature policy /usr/" rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/unsigned:1
assert_fails_with 254 "rejects it (scope 'default'); add a signedBy requirement for it to /etc/rocket/policy.json, or pass --insecure-options=image" \
        rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/unsigned:1
[ -z "$(rocket image list --no-legend)" ]
assert_fails_with 254 "--signature= checks ACI files" \
        rocket fetch --signature=/dev/null --insecure-options=http docker://127.0.0.1:5000/test/unsigned:1
# rkt's command lines, unchanged.
assert_eq "$(rocket --insecure-options=image,http fetch -q docker://127.0.0.1:5000/test/unsigned:1)" "$bb_id"
assert_in "Hello from pod" "$(rocket --insecure-options=image run --insecure-options=http --net=host \
        docker://127.0.0.1:5000/test/unsigned:1 2>/dev/null)"
assert_in "Hello from pod" "$(rocket run --insecure-options=image,http --net=host \
        docker://127.0.0.1:5000/test/unsigned:1 2>/dev/null)"
assert_eq "$(rocket image list --format=json | jq -r '.[0].signedBy')" null

# A policy of the administrator's: test/signed needs a signature by the good key.
mkdir -p /etc/rocket/keys
cp "$fx/good.pub" /etc/rocket/keys/good.pub
cat >/etc/rocket/policy.json <<JSON
{"default": [{"type": "reject"}],
 "transports": {"docker": {"127.0.0.1:5000/test/signed": [{"type": "signedBy", "keyType": "GPGKeys",
                                                            "keyPath": "/etc/rocket/keys/good.pub"}]}}}
JSON
export ROCKET_DIR=$fx/store-policy
assert_eq "$(rocket fetch -q --insecure-options=http docker://127.0.0.1:5000/test/signed:1)" "$bb_id"
assert_eq "$(rocket image list --format=json | jq -r '.[0].signedBy')" "$good"
assert_fails_with 254 "(scope '127.0.0.1:5000/test/signed') refuses it: no signature of it by a key its signedBy requirement names (signature 1 is by key $other)" \
        rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/signed:2
assert_fails_with 254 "rejects it (scope 'default')" rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/unsigned:1
# The same manifest under another tag: its signature does not vouch for that name.
assert_fails_with 254 "signature 1 is for '127.0.0.1:5000/test/signed:1'" \
        rocket fetch --insecure-options=http docker://127.0.0.1:5000/test/signed:copied
rocket image verify

# Local files are taken as given, unless the policy names their transport.
mkdir -p "$fx/untrusted"
cp -a "$fx/busybox" "$fx/untrusted/bb"
cat >/etc/rocket/policy.json <<JSON
{"default": [{"type": "reject"}],
 "transports": {"oci": {"$fx/untrusted": [{"type": "reject"}], "": [{"type": "insecureAcceptAnything"}]}}}
JSON
assert_fails_with 254 "rejects it (oci scope '$fx/untrusted')" rocket fetch "oci:$fx/untrusted/bb:latest"
assert_eq "$(rocket fetch -q "oci:$fx/busybox:latest")" "$bb_id"
assert_eq "$(rocket fetch -q --insecure-options=image "oci:$fx/untrusted/bb:latest")" "$bb_id"
rocket fetch -q "docker-archive:/nonexistent.tar" 2>/dev/null && exit 1
rm /etc/rocket/policy.json
