#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Assembles the stage1-systemd image: a minimal systemd tree (PID 1, journald, systemd-shutdown, the
# libraries they link and nothing else) taken from this machine's own systemd, plus rocket's units and
# its in-pod helper.
#
# Usage: mkimage.sh SRCDIR HELPER OUTDIR [STAMP]
#   SRCDIR  stage1-systemd/ of the source tree (units/, journald.conf)
#   HELPER  the built in-pod helper binary
#   OUTDIR  the image root to (re)create
#   STAMP   touched when done; the entrypoint links run/enter/stop/gc are made next to it
set -euo pipefail

src=${1:?usage: mkimage.sh SRCDIR HELPER OUTDIR}
helper=${2:?}
out=${3:?}
stamp=${4:-}
sdlib=${ROCKET_SYSTEMD_LIBDIR:-/usr/lib/systemd}

tmp="$out.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"/{usr/bin,usr/lib/systemd,etc/systemd/system,var/log/journal,run,proc,sys,dev,tmp,opt/stage2,rocket/pod,root}
# A merged-/usr tree, as Debian's.
ln -s usr/lib "$tmp/lib"
ln -s usr/bin "$tmp/bin"
ln -s usr/bin "$tmp/sbin"
ln -s ../run "$tmp/var/run"

bins=("$sdlib/systemd" "$sdlib/systemd-journald" "$sdlib/systemd-shutdown")
for b in "${bins[@]}"; do
        [ -x "$b" ] || { echo "mkimage: $b not found (is systemd installed?)" >&2; exit 1; }
        cp -L "$b" "$tmp/usr/lib/systemd/"
done
install -m 0755 "$helper" "$tmp/usr/lib/systemd/rocket-pod-helper"
# The stage1's only shell: the helper, which puts the command into an app (machinectl shell/login).
ln -s ../lib/systemd/rocket-pod-helper "$tmp/usr/bin/sh"
# The pod's system bus, socket-activated (units/dbus.*): the host's dbus-daemon with a policy of its own.
dbus=/usr/bin/dbus-daemon
[ -x "$dbus" ] || { echo "mkimage: $dbus not found (is dbus-daemon installed?)" >&2; exit 1; }
cp -L "$dbus" "$tmp/usr/bin/"
mkdir -p "$tmp/usr/share/dbus-1/system-services" "$tmp/usr/lib/systemd/system/sockets.target.wants"
install -m 0644 "$src/dbus-system.conf" "$tmp/usr/share/dbus-1/system.conf"
install -m 0644 "$src/dbus-systemd1.service" "$tmp/usr/share/dbus-1/system-services/org.freedesktop.systemd1.service"
# machinectl shell asks for PAM service "login": it permits (the host's root asked, through machined).
mkdir -p "$tmp/etc/pam.d"
install -m 0644 "$src/pam-login" "$tmp/etc/pam.d/login"
pam_modules=$(dirname "$(find /lib/*/security /usr/lib/*/security -maxdepth 1 -name pam_permit.so 2>/dev/null | head -n 1)")
[ -f "$pam_modules/pam_permit.so" ] || { echo "mkimage: pam_permit.so not found (libpam-modules)" >&2; exit 1; }

# Every library those binaries load, at its canonical path (the dynamic loader included).
copy_lib() {
        local real dest
        real=$(readlink -f "$1")
        case "$real" in
                /lib/*|/lib64/*) dest="/usr$real" ;;
                *) dest=$real ;;
        esac
        # Keep the name the binaries ask for; point it at the real file.
        mkdir -p "$tmp$(dirname "$dest")"
        [ -e "$tmp$dest" ] || cp -L "$real" "$tmp$dest"
        local want=$1
        case "$want" in
                /lib/*|/lib64/*) want="/usr$want" ;;
        esac
        if [ "$want" != "$dest" ] && [ ! -e "$tmp$want" ]; then
                mkdir -p "$tmp$(dirname "$want")"
                ln -s "$(realpath -m --relative-to="$(dirname "$want")" "$dest")" "$tmp$want"
        fi
}
libs=$(for b in "${bins[@]}" "$helper" "$dbus"; do ldd "$b"; done | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/.*ld-linux/ {print $1}' | sort -u)
for l in $libs; do
        copy_lib "$l"
done
for m in pam_permit.so pam_deny.so; do
        copy_lib "$pam_modules/$m"
done
# The loader's well-known path (/lib64/ld-linux-x86-64.so.2 on x86-64) must resolve in the tree.
interp=$(readelf -l "$sdlib/systemd" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
if [ -n "$interp" ] && [ ! -e "$tmp$interp" ]; then
        top=${interp#/}
        top=${top%%/*}
        [ -e "$tmp/$top" ] || ln -s "usr/$top" "$tmp/$top"
        mkdir -p "$tmp/usr$(dirname "$interp")"
        [ -e "$tmp/usr$interp" ] || cp -L "$interp" "$tmp/usr$interp"
fi

# Units: only rocket's own, so nothing of the host's configuration leaks into pods.
for u in "$src"/units/*; do
        install -m 0644 "$u" "$tmp/usr/lib/systemd/system/$(basename "$u")" 2>/dev/null ||
                { mkdir -p "$tmp/usr/lib/systemd/system"; install -m 0644 "$u" "$tmp/usr/lib/systemd/system/"; }
done
mkdir -p "$tmp/usr/lib/systemd/system/sockets.target.wants" "$tmp/usr/lib/systemd/system/sysinit.target.wants"
ln -s ../systemd-journald.socket "$tmp/usr/lib/systemd/system/sockets.target.wants/"
ln -s ../dbus.socket "$tmp/usr/lib/systemd/system/sockets.target.wants/"
ln -s ../rocket-pod-lock.service "$tmp/usr/lib/systemd/system/sysinit.target.wants/"
ln -s poweroff.target "$tmp/usr/lib/systemd/system/ctrl-alt-del.target"
install -m 0644 "$src/journald.conf" "$tmp/etc/systemd/journald.conf"

cat >"$tmp/usr/lib/os-release" <<'OS'
NAME="rocket stage1-systemd"
ID=rocket-stage1
PRETTY_NAME="rocket stage1-systemd"
OS
ln -s ../usr/lib/os-release "$tmp/etc/os-release"
printf 'passwd: files\ngroup: files\nshadow: files\n' >"$tmp/etc/nsswitch.conf"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\n' >"$tmp/etc/passwd"
printf 'root:x:0:\nsystemd-journal:x:190:\n' >"$tmp/etc/group"
: >"$tmp/etc/machine-id"

rm -rf "$out"
mv "$tmp" "$out"
if [ -n "$stamp" ]; then
        for e in run enter stop gc; do
                ln -sfn stage1 "$(dirname "$stamp")/$e"
        done
        touch "$stamp"
fi
