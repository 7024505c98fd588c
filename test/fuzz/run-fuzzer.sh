#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs one libFuzzer harness for a bounded time over its seed corpus, without writing into the seeds: new
# inputs go to a scratch directory, dropped afterwards; a crash is kept next to the build as
# crash-FUZZER-…, to become a seed (a regression input) once understood. Prints how many executions ran.
#
# Usage: run-fuzzer.sh FUZZER SEED_DIR SECONDS ARTIFACT_DIR
set -euo pipefail
fuzzer=${1:?usage: run-fuzzer.sh FUZZER SEED_DIR SECONDS ARTIFACT_DIR}
seeds=${2:?}
seconds=${3:?}
artifacts=${4:?}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rc=0
# A crash exits 1, not libFuzzer's default 77, which meson takes for "skipped".
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 -error_exitcode=1 \
        -artifact_prefix="$artifacts/crash-$(basename "$fuzzer")-" "$scratch" "$seeds" >"$scratch.log" 2>&1 || rc=$?
grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units)' "$scratch.log" || true
if [ "$rc" -ne 0 ]; then
        tail -n 40 "$scratch.log"
fi
rm -f "$scratch.log"
exit "$rc"
