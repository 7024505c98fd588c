#!/usr/bin/env bash
# Installs every Debian 12 package rocket needs to build, test and run.
# Idempotent; non-interactive; needs root.
set -euo pipefail

build_pkgs=(
        build-essential meson ninja-build pkg-config clang
        libsystemd-dev libseccomp-dev libcap-dev libarchive-dev libssl-dev
        libjson-c-dev libcurl4-openssl-dev libxml2-dev libgpgme-dev libyaml-dev libinih-dev libmicrohttpd-dev
        xsltproc docbook-xsl docbook-xml
        dbus-daemon libpam-modules
)
run_pkgs=(
        systemd systemd-container dbus util-linux iproute2 kmod
        containernetworking-plugins iptables gpg gpg-agent
)
test_pkgs=(
        busybox-static umoci skopeo zstd xz-utils bzip2 gzip tar
        bash-completion zsh man-db psmisc procps jq python3
        docker-registry curl openssl
)

missing=()
for p in "${build_pkgs[@]}" "${run_pkgs[@]}" "${test_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

# Debian's nginx packages, downloaded (not installed: that would start it here) for the registry test's
# image of the real nginx.
debs=/var/cache/rocket-test/debs
fetch_debs() {
        [ "$(id -u)" -eq 0 ] || return 0
        compgen -G "$debs/nginx_*.deb" >/dev/null && compgen -G "$debs/nginx-common_*.deb" >/dev/null && return 0
        mkdir -p "$debs"
        (cd "$debs" && apt-get download -qq nginx nginx-common 2>/dev/null) ||
                { apt-get update -qq && (cd "$debs" && apt-get download -qq nginx nginx-common 2>/dev/null); }
        echo "install-deps: downloaded $(cd "$debs" && ls | tr "\n" " ")"
}

if [ ${#missing[@]} -eq 0 ]; then
        echo "install-deps: all packages present"
        fetch_debs
        exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
        echo "install-deps: missing packages (${missing[*]}) and not root" >&2
        exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: installed ${missing[*]}"
fetch_debs
