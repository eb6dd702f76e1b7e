#!/usr/bin/env bash
# Package a built rulelint binary as a release asset and record its
# checksum: package.sh BINARY TARGET OUTDIR
#
# Writes OUTDIR/rulelint-TARGET.tar.gz (or .zip for Windows targets) and
# appends "<sha256>  <asset>" to OUTDIR/SHA256SUMS. The release workflow
# and the action's test use this same script, so what the action
# downloads is what this script makes.
set -euo pipefail

bin=${1:?usage: package.sh BINARY TARGET OUTDIR}
target=${2:?usage: package.sh BINARY TARGET OUTDIR}
out=${3:?usage: package.sh BINARY TARGET OUTDIR}

case "$target" in
  *[!A-Za-z0-9_.-]*) echo "package.sh: invalid target '$target'" >&2; exit 2 ;;
esac
[ -f "$bin" ] || { echo "package.sh: no binary at $bin" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

here=$(cd "$(dirname "$0")/../.." && pwd)
name=rulelint
case "$target" in *windows*) name=rulelint.exe ;; esac
cp "$bin" "$stage/$name"
chmod 755 "$stage/$name"
for f in README.md CHANGELOG.md LICENSE-MIT LICENSE-APACHE; do
  [ -f "$here/$f" ] && cp "$here/$f" "$stage/"
done

case "$target" in
  *windows*)
    asset="rulelint-$target.zip"
    (cd "$stage" && rm -f "$out/$asset" && python3 -c '
import sys, zipfile, os
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(os.listdir(".")):
        z.write(f)
' "$out/$asset")
    ;;
  *)
    asset="rulelint-$target.tar.gz"
    tar -C "$stage" -czf "$out/$asset" .
    ;;
esac

if command -v sha256sum >/dev/null 2>&1; then
  sum=$(sha256sum "$out/$asset" | cut -d' ' -f1)
else
  sum=$(shasum -a 256 "$out/$asset" | cut -d' ' -f1)
fi
# One line per asset: drop an older line for the same asset first.
touch "$out/SHA256SUMS"
grep -v "  $asset\$" "$out/SHA256SUMS" > "$out/SHA256SUMS.new" || true
echo "$sum  $asset" >> "$out/SHA256SUMS.new"
sort -k2 "$out/SHA256SUMS.new" > "$out/SHA256SUMS"
rm -f "$out/SHA256SUMS.new"
echo "$out/$asset"
