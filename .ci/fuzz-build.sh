#!/usr/bin/env bash
# Builds the fuzz targets of fuzz/ (a crate of its own, outside the main
# build) and runs each one for a bounded number of inputs, starting from
# seeds made of the example rules, the test fixtures and the catalogue.
#
#   .ci/fuzz-build.sh                        build, then 2000 runs per target
#   FUZZ_RUNS=0 .ci/fuzz-build.sh            build only
#   FUZZ_SECONDS=300 .ci/fuzz-build.sh       run each target for 300 s instead
#   FUZZ_TARGETS="kql spl" .ci/fuzz-build.sh only these targets
#
# Seeds, the growing corpus and crash inputs go to fuzz/seeds, fuzz/corpus
# and fuzz/artifacts (git-ignored); nothing is written elsewhere. A crash
# fails the script and names the input that reproduces it:
#   cargo fuzz run --sanitizer none <target> fuzz/artifacts/<target>/<file>
#
# Runs on the stable toolchain: without a sanitizer cargo-fuzz passes no
# nightly-only flag. The code under test is safe Rust, so AddressSanitizer
# would slow every run and find nothing more; panics, stack overflows,
# timeouts and memory blow-ups are caught without it. The targets are built
# like the released binary (release profile, no debug assertions).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${FUZZ_RUNS:-2000}"
seconds="${FUZZ_SECONDS:-}"
flags=(--sanitizer none)

if ! command -v cargo-fuzz >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

all_targets=$(cargo fuzz list)
targets="${FUZZ_TARGETS:-$all_targets}"

echo "== building the fuzz targets"
cargo fuzz build "${flags[@]}"

if [ -z "$seconds" ] && [ "$runs" = 0 ]; then
  exit 0
fi

seeds=fuzz/seeds
rm -rf "$seeds"
for t in $all_targets; do
  mkdir -p "$seeds/$t" "fuzz/corpus/$t" "fuzz/artifacts/$t"
done

# Whole rule files, by format.
n=0
add() { # target file...
  local t="$1"
  shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    cp "$f" "$seeds/$t/$n-$(basename "$f")"
  done
}
shopt -s nullglob
sigma_files=(rules/sigma/*.yml tests/fixtures/*/sigma/* tests/parse/sigma/*)
elastic_files=(rules/elastic/*.toml tests/fixtures/*/elastic/* tests/parse/{kql,eql,esql,lucene}/*)
splunk_files=(rules/splunk/*.yml tests/fixtures/*/splunk/* tests/parse/spl/*)
add sigma_file "${sigma_files[@]}"
add elastic_file "${elastic_files[@]}"
add splunk_file "${splunk_files[@]}"
add fix_reparse "${sigma_files[@]}" "${elastic_files[@]}" "${splunk_files[@]}"
add catalogue knowledge/*.yml

# The query of each Elastic rule, by language (multi-line '''/""" strings
# and one-line strings, escapes left as written: a seed need not be exact).
for f in "${elastic_files[@]}"; do
  lang=$(sed -n 's/^language = "\(.*\)"$/\1/p' "$f" | head -n 1)
  case "$lang" in
    kuery) t=kql ;;
    eql | esql | lucene) t=$lang ;;
    *) continue ;;
  esac
  n=$((n + 1))
  awk '
    inq { if (index($0, q) > 0) { print substr($0, 1, index($0, q) - 1); exit } print; next }
    /^query = (\047\047\047|""")/ { q = substr($0, 9, 3); inq = 1; rest = substr($0, 12); if (rest != "") print rest; next }
    /^query = ["\047]/ { s = substr($0, 10); print substr(s, 1, length(s) - 1); exit }
  ' "$f" >"$seeds/$t/$n-$(basename "$f")"
done

# The search of each Splunk rule: the `search:` value up to the next key,
# outer quotes off, '' as '.
for f in "${splunk_files[@]}"; do
  n=$((n + 1))
  awk '
    /^search:/ { ins = 1; sub(/^search: */, ""); print; next }
    ins && /^[A-Za-z_]+:/ { exit }
    ins { sub(/^ +/, ""); print }
  ' "$f" | sed "1s/^'//; \$s/'\$//; s/''/'/g" >"$seeds/spl/$n-$(basename "$f")"
done

# Small generated inputs.
gen() { # target name text
  printf '%s\n' "$3" >"$seeds/$1/gen-$2"
}
gen kql 1 'a:1 and not b:(x or "y z") or c >= 10 and d:*e*'
gen kql 2 'host.name:* and not (user.name:SYSTEM or process.name:"cmd.exe") and nested:{ f:1 }'
gen eql 1 'process where a == "x" and not b in ("y", "z") and startsWith~(c, "d")'
gen eql 2 'sequence by host.id with maxspan=1m [process where true] [network where destination.port != 443] until [process where false]'
gen esql 1 'FROM logs-* | WHERE a == "x" AND NOT b IN (1, 2) | EVAL c = TO_LOWER(d) | STATS n = COUNT(*) BY e | WHERE n > 1'
gen esql 2 'FROM x METADATA _id | WHERE f LIKE "*y*" OR g RLIKE "z.*" | KEEP a, b | LIMIT 10'
gen lucene 1 'a:[1 TO 2] AND NOT b:c* AND _exists_:d AND e:/re.*/ AND f:"g h"~2'
gen spl 1 'index=x sourcetype=y a=1 NOT b IN ("c", "d") | eval e=len(f) | where e > 1 | stats count by g | `m_filter`'
gen spl 2 '| tstats count from datamodel=Endpoint.Processes where Processes.process_name=x by Processes.dest | `drop_dm_object_name(Processes)` | rename dest as host | search host!=y'
gen config 1 'select = ["RL2"]
ignore = ["ephemeral-port"]
fail-on = "warning"
[severity]
RL101 = "hint"
[environment]
dns_servers = ["10.0.0.53", "10.0.1.0/24"]
service_accounts = ["svc_backup"]
[knowledge]
extend = []
[[overrides]]
include = ["rules/windows/**"]
ignore = ["RL201"]
severity = { RL201 = "info" }'
gen config 2 'select = ["known-fp-pattern", "RL014"]
fail-on = "error"
[environment]
proxies = ["10.10.0.0/24"]'
gen config 3 'ignore = ["RL101", "invalid-suppression"]'

for t in $targets; do
  echo "== fuzz $t"
  args=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
    "-artifact_prefix=fuzz/artifacts/$t/")
  if [ -n "$seconds" ]; then
    args+=("-max_total_time=$seconds")
  else
    args+=("-runs=$runs" -seed=1)
  fi
  log="fuzz/artifacts/$t/last-run.log"
  if ! cargo fuzz run "${flags[@]}" "$t" "fuzz/corpus/$t" "$seeds/$t" -- "${args[@]}" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "fuzz target $t failed; the input is in fuzz/artifacts/$t/"
    exit 1
  fi
  grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | tr '\n' ' '
  echo
done
