#!/usr/bin/env bash
# Round-trip `rulelint check --fix` through the rules' own toolchains:
#
# * pySigma (with the Splunk backend) must load, and convert, every Sigma
#   file a fix changed;
# * Elastic's `eql` parser (the Python package used by detection-rules)
#   must parse every EQL query a fix changed.
#
# Input: the example rules in rules/ and, when the shared corpus is there
# (../shared/corpus or $RULELINT_CORPUS), its Sigma rules and its Elastic
# EQL rules, copied to a temporary directory (every $ROUNDTRIP_EVERY-th
# corpus file; default 1, all of them). Each copy is fixed three times:
#
#   unsafe        --fix --unsafe-fixes                        (no configuration)
#   placeholders  --fix --unsafe-fixes --fix-placeholders     (no configuration)
#   facts         --fix --unsafe-fixes --fix-placeholders     (the `rulelint init`
#                                                             example facts set)
#
# A file the toolchain accepted before the fix and rejects after it is a
# failure; the script prints the counts and exits 1 when there is any.
# Files the toolchain already rejects unfixed are counted and reported,
# not failed (they are not the fix's doing).
#
# Needs cargo and python3 (3.11+, for tomllib). Installs pySigma,
# pysigma-backend-splunk and eql with pip into a virtual environment
# (target/toolchain-venv, or $ROUNDTRIP_VENV). RULELINT_BIN=path skips the
# build. Usage: .ci/toolchain-roundtrip.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

venv=${ROUNDTRIP_VENV:-$repo/target/toolchain-venv}
echo "== toolchains (pip, into $venv)"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pysigma pysigma-backend-splunk eql
"$venv/bin/pip" list --disable-pip-version-check 2>/dev/null | grep -i -E '^(pysigma|pysigma-backend-splunk|eql) ' || true

if [ -n "${RULELINT_BIN:-}" ]; then
  bin=$RULELINT_BIN
else
  echo "== build"
  cargo build --quiet
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/rulelint"
fi
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac

echo "== sample"
src="$work/src"
mkdir -p "$src"
cp -R rules "$src/rules"
corpus=${RULELINT_CORPUS:-$repo/../shared/corpus}
every=${ROUNDTRIP_EVERY:-1}
if [ -d "$corpus/sigma" ]; then
  (cd "$corpus" && find sigma -type f \( -name '*.yml' -o -name '*.yaml' \) | sort |
    awk -v k="$every" 'NR % k == 0') | while IFS= read -r f; do
    mkdir -p "$src/corpus/$(dirname "$f")"
    cp "$corpus/$f" "$src/corpus/$f"
  done
fi
if [ -d "$corpus/elastic" ]; then
  (cd "$corpus" && grep -rlE '^language = "eql"' elastic --include='*.toml' | sort |
    awk -v k="$every" 'NR % k == 0') | while IFS= read -r f; do
    mkdir -p "$src/corpus/$(dirname "$f")"
    cp "$corpus/$f" "$src/corpus/$f"
  done
fi
echo "copied $(find "$src" -type f | wc -l) files"

# The `rulelint init` starter with its example facts switched on.
(cd "$work" && "$bin" init >/dev/null)
python3 - "$work/rulelint.toml" <<'EOF'
import re, sys
path = sys.argv[1]
lines = open(path, encoding="utf-8").read().split("\n")
out, in_env = [], False
for line in lines:
    if line.startswith("["):
        in_env = line.strip() == "[environment]"
    if in_env and re.match(r"^# [a-z_]+ = \[", line):
        line = line[2:]
    out.append(line)
open(path, "w", encoding="utf-8").write("\n".join(out))
EOF
grep -A8 '^\[environment\]' "$work/rulelint.toml"

cat >"$work/validate.py" <<'EOF'
"""Compare original and fixed rule files with their toolchains."""
import os
import sys
import tomllib
import warnings

warnings.filterwarnings("ignore")

from sigma.collection import SigmaCollection  # noqa: E402
from sigma.backends.splunk import SplunkBackend  # noqa: E402
import eql  # noqa: E402
from eql.parser import elasticsearch_syntax, ignore_missing_functions  # noqa: E402

orig_root, fixed_root, mode = sys.argv[1:4]


def sigma_problem(path):
    """None when pySigma loads and converts the file, else why not."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        coll = SigmaCollection.from_yaml(text, collect_errors=True)
        errors = list(getattr(coll, "errors", []) or [])
        for r in coll.rules:
            errors.extend(getattr(r, "errors", []) or [])
        if errors:
            return "load: " + str(errors[0]).splitlines()[0]
    except Exception as e:  # pySigma raises many types
        return "load: " + (str(e).splitlines() or [type(e).__name__])[0]
    try:
        SplunkBackend().convert(coll)
    except Exception as e:
        return "convert: " + (str(e).splitlines() or [type(e).__name__])[0]
    return None


def eql_problem(path):
    """None when every EQL query of the file parses, else why not."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except Exception as e:
        return "toml: " + str(e).splitlines()[0]
    rule = doc.get("rule", {})
    if rule.get("language") != "eql" or "query" not in rule:
        return None
    try:
        with elasticsearch_syntax, ignore_missing_functions:
            eql.parse_query(rule["query"])
    except Exception as e:
        return "eql: " + " ".join(str(e).split())[:160]
    return None


def kind(path):
    if path.endswith(".toml"):
        return "eql"
    if path.endswith((".yml", ".yaml")) and "/splunk/" not in path:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read()
        if "detection:" in head and "search:" not in head:
            return "sigma"
    return None


counts = {}
failures = []
for base, _, files in os.walk(fixed_root):
    for name in sorted(files):
        fixed = os.path.join(base, name)
        rel = os.path.relpath(fixed, fixed_root)
        orig = os.path.join(orig_root, rel)
        k = kind(fixed)
        if k is None or not os.path.exists(orig):
            continue
        with open(orig, "rb") as a, open(fixed, "rb") as b:
            if a.read() == b.read():
                continue
        check = sigma_problem if k == "sigma" else eql_problem
        before, after = check(orig), check(fixed)
        c = counts.setdefault(k, {"fixed": 0, "accepted_before": 0, "rejected_before": 0,
                                  "accepted_after": 0, "rejected_after": 0, "broken_by_fix": 0})
        c["fixed"] += 1
        c["accepted_before" if before is None else "rejected_before"] += 1
        c["accepted_after" if after is None else "rejected_after"] += 1
        if before is None and after is not None:
            c["broken_by_fix"] += 1
            failures.append(f"{mode}: {rel}: {after}")

for k in ("sigma", "eql"):
    c = counts.get(k, {"fixed": 0, "accepted_before": 0, "rejected_before": 0,
                       "accepted_after": 0, "rejected_after": 0, "broken_by_fix": 0})
    print(f"{mode:13} {k:5} fixed files {c['fixed']:5}  before: {c['accepted_before']} accepted, "
          f"{c['rejected_before']} rejected  after: {c['accepted_after']} accepted, "
          f"{c['rejected_after']} rejected  broken by the fix: {c['broken_by_fix']}")
for f in failures:
    print("REJECTED " + f)
sys.exit(1 if failures else 0)
EOF

status=0
run_mode() {
  local mode=$1
  shift
  local dir="$work/$mode"
  cp -R "$src" "$dir"
  local rc=0
  (cd "$dir" && "$bin" check "$@" --quiet --format json . >"$work/$mode.json" 2>"$work/$mode.err") || rc=$?
  # 0 clean, 1 findings, 2 some corpus files do not parse (reported, not
  # the fix's doing); anything else, or no JSON report, is a failure.
  if [ "$rc" -gt 2 ] || ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$work/$mode.json"; then
    echo "FAIL $mode: rulelint exited with $rc"
    tail -5 "$work/$mode.err"
    status=1
  fi
  "$venv/bin/python" "$work/validate.py" "$src" "$dir" "$mode" || status=1
}

echo "== fix and validate"
run_mode unsafe --isolated --fix --unsafe-fixes
run_mode placeholders --isolated --fix --unsafe-fixes --fix-placeholders
run_mode facts --config "$work/rulelint.toml" --fix --unsafe-fixes --fix-placeholders

if [ "$status" -ne 0 ]; then
  echo "toolchain round-trip: FAILED"
else
  echo "toolchain round-trip: ok"
fi
exit "$status"
