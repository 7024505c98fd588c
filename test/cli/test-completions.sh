#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The completion scripts load in bash and zsh without error, complete every verb that --help lists,
# and the man page documents every global option --help shows. TAP output.
set -uo pipefail

rocket=$1 src=$2
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }



verbs=$("$rocket" --help | awk '/^Commands:/{f=1;next} /^$/{f=0} f{print $1}' | sort)

if [ -f /usr/share/bash-completion/bash_completion ]; then
        got=$(bash -c '
                . /usr/share/bash-completion/bash_completion
                . "$1/completions/bash/rocket"
                COMP_WORDS=(rocket ""); COMP_CWORD=1; COMP_LINE="rocket "; COMP_POINT=${#COMP_LINE}
                _rocket
                printf "%s\n" "${COMPREPLY[@]}"' _ "$src" 2>&1 | sort)
        if [ "$got" = "$verbs" ]; then
                ok "bash completes the verbs --help lists"
        else
                not_ok "bash completes the verbs --help lists" "got: $got" "want: $verbs"
        fi
else
        skip "bash completion" "bash-completion not installed"
fi

if command -v zsh >/dev/null; then
        if out=$(zsh -fc 'autoload -Uz compinit && compinit -u -D; fpath=("$1/completions/zsh" $fpath); autoload -Uz _rocket && print loaded' _ "$src" 2>&1) && [ "$out" = loaded ]; then
                zverbs=$(sed -n "s/^ *'\([a-z-]*\):.*/\1/p" "$src/completions/zsh/_rocket" | sort)
                if [ "$zverbs" = "$verbs" ]; then
                        ok "zsh completion loads and lists the verbs --help lists"
                else
                        not_ok "zsh completion lists the verbs" "got: $zverbs" "want: $verbs"
                fi
        else
                not_ok "zsh completion loads" "$out"
        fi
else
        skip "zsh completion" "zsh not installed"
fi

# Every man page lists exactly the options its --help shows.
for page in "$src"/man/rocket*.xml; do
        name=$(basename "$page" .xml)
        verb=${name#rocket}
        verb=${verb#-}
        help_opts=$("$rocket" $verb --help | grep -oE -- '--[a-z][a-z-]*' | sort -u)
        man_opts=$(grep -oE -- '<option>--[a-z][a-z-]*' "$page" | sed 's/<option>//' | sort -u)
        if [ "$help_opts" = "$man_opts" ]; then
                ok "$name.xml and 'rocket $verb --help' list the same options"
        else
                not_ok "$name.xml and 'rocket $verb --help' list the same options" "$(diff <(echo "$help_opts") <(echo "$man_opts"))"
        fi
done

echo "1..$n"
[ "$failed" -eq 0 ]
