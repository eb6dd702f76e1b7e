#!/usr/bin/env bash
# Validate `rulelint check --format sarif` with an independent implementation:
# Microsoft's SARIF Multitool (npm package @microsoft/sarif-multitool).
#
# Validates the SARIF for rules/, for a corpus directory (../shared/corpus,
# or $RULELINT_CORPUS, when present) and a sample log with fixes and related
# locations written by a unit test. Exits non-zero when the Multitool reports
# an error (warnings are printed).
#
# Needs cargo, node and npm. Usage: .ci/sarif-validate.sh
# (RULELINT_BIN=path/to/rulelint skips the release build.)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${RULELINT_BIN:-}" ]; then
  bin=$RULELINT_BIN
else
  echo "== build (release)"
  cargo build --release --quiet
  bin="${CARGO_TARGET_DIR:-$repo/target}/release/rulelint"
fi
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac

echo "== install the SARIF Multitool"
(
  cd "$work"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool >/dev/null
)
# The package's index.js names the platform binary. Call it directly: the
# npm wrapper runs it through a shell. Its postinstall only marks it
# executable, and npm may skip install scripts, so do that here.
multitool=$(cd "$work" && node -p 'require("@microsoft/sarif-multitool")')
chmod u+x "$multitool"
echo "SARIF Multitool: $multitool"

status=0

# validate NAME FILE: run the Multitool, print its findings, count errors.
validate() {
  local name=$1 file=$2 out="$work/$1.validation.sarif"
  if ! node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if(!d.runs||!d.runs.length) process.exit(1)' "$file"; then
    echo "FAIL $name: rulelint did not write a SARIF log"
    status=1
    return
  fi
  "$multitool" validate "$file" --output "$out" --log ForceOverwrite --quiet >/dev/null 2>&1 || true
  if [ ! -s "$out" ]; then
    echo "FAIL $name: the Multitool wrote no result"
    status=1
    return
  fi
  local errors
  errors=$(node -e '
    const d = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    let errors = 0;
    for (const run of d.runs || []) {
      for (const n of (run.invocations || []).flatMap(i => (i.toolExecutionNotifications || []).concat(i.toolConfigurationNotifications || []))) {
        if ((n.level || "warning") === "error") { errors++; console.error("  tool error: " + (n.message && n.message.text)); }
      }
      for (const r of run.results || []) {
        const level = r.level || "warning";
        const args = (r.message && r.message.arguments) || [];
        console.error(`  ${level} ${r.ruleId}: ${args.join(" | ")}`);
        if (level === "error") errors++;
      }
    }
    console.log(errors);
  ' "$out")
  local results
  results=$(node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(d.runs[0].results.length)' "$file")
  if [ "$errors" -ne 0 ]; then
    echo "FAIL $name: $errors error(s) from the SARIF Multitool ($results results in the log)"
    status=1
  else
    echo "ok   $name: no errors from the SARIF Multitool ($results results in the log)"
  fi
}

# run_check NAME DIR ARGS...: rulelint check --format sarif in DIR.
run_check() {
  local name=$1 dir=$2
  shift 2
  local rc=0
  (cd "$dir" && "$bin" check --format sarif "$@") >"$work/$name.sarif" 2>"$work/$name.stderr" || rc=$?
  if [ "$rc" -gt 2 ]; then
    echo "FAIL $name: rulelint exited with $rc"
    cat "$work/$name.stderr"
    status=1
    return
  fi
  validate "$name" "$work/$name.sarif"
}

if [ -d rules ]; then
  echo "== rules/"
  run_check rules "$repo" rules/
else
  echo "== rules/ does not exist; skipped"
fi

corpus="${RULELINT_CORPUS:-}"
if [ -z "$corpus" ] && [ -d ../shared/corpus ]; then
  corpus=$(cd ../shared/corpus && pwd)
fi
if [ -n "$corpus" ] && [ -d "$corpus" ]; then
  for sub in sigma/rules/network sigma/rules/windows/network_connection elastic/rules/network; do
    if [ -d "$corpus/$sub" ]; then
      echo "== corpus: $sub"
      run_check "corpus-$(echo "$sub" | tr / -)" "$corpus" --isolated "$sub"
    fi
  done
else
  echo "== no corpus (../shared/corpus or \$RULELINT_CORPUS); skipped"
fi

echo "== sample log with fixes (unit test report::sarif::tests::sample_for_the_validator)"
RULELINT_SARIF_SAMPLE="$work/sample.sarif" cargo test --quiet --lib sample_for_the_validator >/dev/null
validate sample "$work/sample.sarif"

exit "$status"
