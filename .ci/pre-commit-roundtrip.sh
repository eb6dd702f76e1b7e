#!/usr/bin/env bash
# Prove the pre-commit hook with the real `pre-commit` from PyPI: in a
# temporary git repository whose .pre-commit-config.yaml points at this
# checkout (repo: <absolute path>, rev: <HEAD sha>), committing a Sigma rule
# with a finding must fail and committing a clean rule must pass.
#
# pre-commit clones this repository at HEAD (commit what you want tested)
# and `cargo install`s it. CARGO_TARGET_DIR defaults to this checkout's
# target/ so that the dependencies compiled by `cargo build --release` are
# reused; the registry comes from the usual CARGO_HOME.
#
# Needs git, python3 (venv), cargo. Usage: .ci/pre-commit-roundtrip.sh
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
sha=$(git rev-parse HEAD)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ -n "$(git status --porcelain --untracked-files=no -- .pre-commit-hooks.yaml src Cargo.toml Cargo.lock knowledge)" ]; then
  echo "note: uncommitted changes; pre-commit tests the committed HEAD $sha"
fi

echo "== pre-commit (PyPI) in a virtualenv"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check pre-commit
"$work/venv/bin/pre-commit" --version

export PRE_COMMIT_HOME="$work/pre-commit-home"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$repo/$CARGO_TARGET_DIR" ;; esac
export PATH="$work/venv/bin:$PATH"

demo="$work/demo"
mkdir "$demo"
cd "$demo"
git init -q .
git config user.email "ci@example.invalid"
git config user.name "rulelint CI"
git config commit.gpgsign false
cat > .pre-commit-config.yaml <<YAML
repos:
  - repo: $repo
    rev: $sha
    hooks:
      - id: rulelint
YAML
git add .pre-commit-config.yaml
git commit -q -m "pre-commit config"
pre-commit install >/dev/null

echo "== build the hook environment (cargo install of $sha)"
start=$(date +%s)
pre-commit install-hooks
echo "   took $(( $(date +%s) - start )) s"

fail=0

echo "== a rule with a finding: the commit must fail"
mkdir -p rules
cat > rules/net_irc_connection.yml <<'YAML'
title: IRC Connection From A Workstation
id: 6c0b5e0e-2f6b-4a39-9d7e-0d1f1a7f3c21
status: test
logsource:
    category: network_connection
    product: windows
detection:
    selection:
        Initiated: 'true'
        DestinationPort: 6667
    condition: selection
level: medium
YAML
git add rules/net_irc_connection.yml
if git commit -q -m "flagged rule" >"$work/flagged.log" 2>&1; then
  echo "FAIL: the commit with a finding passed"
  cat "$work/flagged.log"
  fail=1
elif ! grep -q "RL201" "$work/flagged.log"; then
  echo "FAIL: the commit failed, but not with an RL201 finding"
  cat "$work/flagged.log"
  fail=1
else
  echo "ok   rejected:"
  grep -E "RL201|^rulelint" "$work/flagged.log" | head -5 | sed 's/^/     /'
fi
git reset -q
rm -f rules/net_irc_connection.yml

echo "== a clean rule: the commit must pass"
cat > rules/registry_run_key_temp.yml <<'YAML'
title: Registry Run Key Points To Temp
id: 0b7c36a4-6d8e-4bd4-9a3e-2f0a4c1d9e11
status: test
logsource:
    category: registry_set
    product: windows
detection:
    selection:
        TargetObject|contains: '\Software\Microsoft\Windows\CurrentVersion\Run\'
        Details|contains: '\AppData\Local\Temp\'
    condition: selection
level: high
YAML
# A non-rule YAML file in the same commit is skipped, not reported.
printf 'name: ci\non: push\njobs: {}\n' > workflow.yml
git add rules/registry_run_key_temp.yml workflow.yml
if git commit -q -m "clean rule" >"$work/clean.log" 2>&1; then
  echo "ok   accepted"
else
  echo "FAIL: the commit of a clean rule failed"
  cat "$work/clean.log"
  fail=1
fi

exit "$fail"
