#!/usr/bin/env bash
# Round-trip `rulelint tune` packs through their real consumers:
#
# * Sigma meta-filters: pySigma loads each filter with the rules it names
#   (as `sigma convert --filter` does) and converts them with the Splunk
#   backend; the filter's exclusion must appear in each rule's query,
#   ANDed as a NOT (.ci/tune-roundtrip.py);
# * Splunk macros.conf: each stanza is parsed by a .conf stanza parser
#   and each definition by rulelint's own SPL parser (the hidden
#   `rulelint debug-macros` command);
# * Elastic exception lists: each NDJSON line is validated against the
#   import schema written from Kibana's documentation
#   (tests/data/kibana-exception-list-import.schema.json).
#
# Input: the example rules in rules/ and, when the shared corpus is there
# (../shared/corpus or $RULELINT_CORPUS), each of its corpora, tuned with an
# [environment] that provides every fact of the catalogue. Prints the
# counts per input and format; exits 1 on any failure.
#
# Needs cargo and python3. Installs pySigma, pysigma-backend-splunk and
# jsonschema with pip into a virtual environment (target/toolchain-venv,
# or $ROUNDTRIP_VENV). RULELINT_BIN=path skips the build.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

venv=${ROUNDTRIP_VENV:-$repo/target/toolchain-venv}
echo "== consumers (pip, into $venv)"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pysigma pysigma-backend-splunk jsonschema
"$venv/bin/pip" list --disable-pip-version-check 2>/dev/null | grep -i -E '^(pysigma|pysigma-backend-splunk|jsonschema) ' || true

if [ -n "${RULELINT_BIN:-}" ]; then
  bin=$RULELINT_BIN
else
  echo "== build"
  cargo build --quiet
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/rulelint"
fi
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac

# Every fact of the catalogue, with values valid for every field.
cp tests/data/tune-environment.toml "$work/rulelint.toml"
# Facts the catalogue names that the list above lacks would make this
# round trip test less than it says.
for fact in $(sed -n 's/^ *fact: //p' knowledge/*.yml | sort -u); do
  if ! grep -q "^$fact = " "$work/rulelint.toml"; then
    echo "FAIL: the round trip's [environment] lacks the fact $fact"
    exit 1
  fi
done

inputs=("examples:rules")
corpus="${RULELINT_CORPUS:-../shared/corpus}"
if [ -d "$corpus" ]; then
  for c in sigma elastic splunk; do
    [ -d "$corpus/$c" ] && inputs+=("$c:$corpus/$c")
  done
else
  echo "(no corpus at $corpus: the example rules only)"
fi

fail=0
for input in "${inputs[@]}"; do
  name=${input%%:*}
  dir=${input#*:}
  pack="$work/pack-$name"
  echo "== tune $dir"
  status=0
  "$bin" --config "$work/rulelint.toml" tune --out "$pack" "$dir" > "$work/$name.out" 2> "$work/$name.err" || status=$?
  head -n 1 "$work/$name.out"
  echo "skipped: $(grep -c '^  ' "$work/$name.out" || true)"
  if [ "$status" -ne 0 ]; then
    echo "FAIL: rulelint tune exited with $status"
    cat "$work/$name.err"
    fail=1
    continue
  fi
  # Byte-identical on a second run: --check finds nothing stale.
  if ! "$bin" --config "$work/rulelint.toml" tune --check --out "$pack" "$dir" > "$work/$name.check" 2>&1; then
    echo "FAIL: a second run differs"
    head -n 20 "$work/$name.check"
    fail=1
  fi
  if [ -f "$pack/splunk/macros.conf" ]; then
    stanzas=$(grep -c '^\[' "$pack/splunk/macros.conf" || true)
    if out=$("$bin" debug-macros "$pack/splunk/macros.conf" 2>&1); then
      echo "splunk: $stanzas stanzas, $out"
    else
      echo "FAIL: splunk: $out"
      fail=1
    fi
  else
    echo "splunk: no macros.conf"
  fi
  "$venv/bin/python" .ci/tune-roundtrip.py "$dir" "$pack" tests/data/kibana-exception-list-import.schema.json || fail=1
done
exit $fail
