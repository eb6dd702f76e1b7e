#!/usr/bin/env bash
# Parse `rulelint check --format junit` with an independent XML parser
# (Python's xml.etree) and check its structure against the JSON report of
# the same run: one <testsuite> per checked file, a <failure> for each rule
# with findings, an <error> for each file that cannot be checked, totals
# that add up. Runs on rules/, on the corpus when present, and on rules
# whose titles hold markup, quotes, `]]>` and control characters.
#
# Needs cargo and python3. Usage: .ci/junit-validate.sh
# (RULELINT_BIN=path/to/rulelint skips the build.)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "${RULELINT_BIN:-}" ]; then
  bin=$RULELINT_BIN
else
  cargo build --quiet
  bin="${CARGO_TARGET_DIR:-$repo/target}/debug/rulelint"
fi
case "$bin" in /*) ;; *) bin="$repo/$bin" ;; esac

mkdir -p "$work/tricky"
printf 'title: "A <b>&amp; \\"quoted\\" ]]> \\u0007 bell"\nlogsource:\n    category: network_connection\n    product: windows\ndetection:\n    selection:\n        Initiated: "true"\n        DestinationPort: 6667\n    condition: selection\nlevel: medium\n' > "$work/tricky/a&b <c>.yml"
printf 'title: Broken ]]>\nlogsource:\n    product: windows\ndetection:\n    selection:\n        Image: x\n    condition: selection and (\n' > "$work/tricky/broken.yml"

check() {
  local dir=$1
  (cd "$dir" && "$bin" check --isolated --format junit . > "$work/out.xml") || true
  (cd "$dir" && "$bin" check --isolated --format json . > "$work/out.json") || true
  python3 - "$work/out.xml" "$work/out.json" <<'PY'
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
report = json.load(open(sys.argv[2]))
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
files = report["summary"]["files"]
assert len(suites) == files, (len(suites), files)
cases = [c for s in suites for c in s.findall("testcase")]
assert int(root.get("tests")) == len(cases)
failures = sum(len(c.findall("failure")) for c in cases)
errors = sum(len(c.findall("error")) for c in cases)
assert int(root.get("failures")) == failures and int(root.get("errors")) == errors
for s in suites:
    assert int(s.get("tests")) == len(s.findall("testcase")), s.get("name")
with_findings = {d["file"] for d in report["diagnostics"] if not d["code"].startswith("RL0")}
failed_files = {s.get("name") for s in suites if s.find("testcase/failure") is not None}
assert with_findings <= failed_files, with_findings - failed_files
print(f"junit ok: {len(suites)} suites, {len(cases)} cases, {failures} failures, {errors} errors")
PY
}

check "$repo/rules"
check "$work/tricky"
python3 - "$work/out.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
names = [c.get("name") for c in root.iter("testcase")]
assert any('<b>&amp; "quoted" ]]>' in n for n in names), names
assert root.get("errors") == "1", root.get("errors")
PY
if [ -d "${RULELINT_CORPUS:-../shared/corpus}" ]; then
  check "${RULELINT_CORPUS:-../shared/corpus}"
fi
echo "junit-validate: ok"
