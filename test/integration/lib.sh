# SPDX-License-Identifier: LGPL-2.1-or-later
# Sourced by every TEST-*.sh; runs inside the throwaway systemd host.

# wait_until 'SHELL CONDITION' [TIMEOUT_SECONDS]
wait_until() {
        local cond=$1 timeout=${2:-20} i
        for ((i = 0; i < timeout * 10; i++)); do
                if eval "$cond"; then
                        return 0
                fi
                sleep 0.1
        done
        echo "timed out after ${timeout}s waiting for: $cond" >&2
        return 1
}

assert_eq() {
        if [ "$1" != "$2" ]; then
                echo "assertion failed: '$1' != '$2'${3:+ ($3)}" >&2
                return 1
        fi
}

# assert_in NEEDLE HAYSTACK
assert_in() {
        if [[ "$2" != *"$1"* ]]; then
                echo "assertion failed: '$1' not found in:" >&2
                printf '%s\n' "$2" >&2
                return 1
        fi
}

# assert_not_in NEEDLE HAYSTACK
assert_not_in() {
        if [[ "$2" == *"$1"* ]]; then
                echo "assertion failed: '$1' found in:" >&2
                printf '%s\n' "$2" >&2
                return 1
        fi
}

# assert_not CMD...: the command must fail (its output discarded). A bare '! CMD' never fails a 'set -e' script.
assert_not() {
        if "$@" >/dev/null 2>&1; then
                echo "assertion failed: this succeeded: $*" >&2
                return 1
        fi
}

# assert_fails EXPECTED_EXIT CMD...: the command must exit with that status and say one line on stderr.
assert_fails() {
        local want=$1 rc=0 err
        shift
        err=$("$@" 2>&1 >/dev/null) || rc=$?
        if [ "$rc" -ne "$want" ]; then
                echo "assertion failed: '$*' exited $rc, wanted $want; stderr: $err" >&2
                return 1
        fi
        if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [ -z "$err" ]; then
                echo "assertion failed: '$*' should print exactly one line on stderr, got:" >&2
                printf '%s\n' "$err" >&2
                return 1
        fi
}

# Pod tests: the store and pods in /var/lib/rocket, and the default busybox image built and imported as
# busybox:test. Sets $fx (a scratch directory) and $img.
pod_test_setup() {
        export ROCKET_DIR=/var/lib/rocket
        fx=$(mktemp -d)
        bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/busybox"
        rocket fetch --name=busybox:test "oci:$fx/busybox:latest"
        img=busybox:test
}

# assert_fails_with EXPECTED_EXIT PATTERN CMD...: as assert_fails, and the one line says PATTERN.
assert_fails_with() {
        local want=$1 pattern=$2 rc=0 err
        shift 2
        err=$("$@" 2>&1 >/dev/null) || rc=$?
        if [ "$rc" -ne "$want" ] || [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ] || [[ "$err" != *"$pattern"* ]]; then
                echo "assertion failed: '$*' exited $rc (wanted $want) saying '$err' (wanted one line with '$pattern')" >&2
                return 1
        fi
}

# The attack image: busybox with test/fixtures/attack.c built static at /usr/local/bin/attack, imported as
# attack:test (after pod_test_setup).
attack_test_setup() {
        gcc -static -O2 -o "$fx/attack" "$ROCKET_TEST_DIR/fixtures/attack.c"
        bash "$ROCKET_TEST_DIR/fixtures/mkbusybox.sh" "$fx/atk" "$fx/attack"
        rocket fetch --name=attack:test "oci:$fx/atk:latest"
}

attacks() {     # attacks [ROCKET RUN OPTIONS...] -- NAME... : "name: result" lines
        local opts=() names
        while [ "$1" != -- ]; do opts+=("$1"); shift; done
        shift
        names="$*"
        rocket run "${opts[@]}" --exec /bin/sh attack:test -- -c \
                "for a in $names; do echo \"\$a: \$(/usr/local/bin/attack \$a)\"; done"
}
