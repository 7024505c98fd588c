#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# meson install: copies the stage1 image built in the build tree to its place (under DESTDIR, if set).
set -eu
src=$1
dest="${DESTDIR:-}$2/rootfs"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
cp -a "$src" "$dest"
