#!/usr/bin/env bash
# Install a released rulelint binary: the GitHub Action's install step.
#
#   install.sh VERSION            # e.g. v0.1.0
#
# Downloads rulelint-<target>.tar.gz (.zip on Windows) and SHA256SUMS from
# the release, refuses an asset whose checksum does not match, unpacks it
# into the tool cache and puts it on the PATH of later steps.
#
# Environment:
#   RULELINT_DOWNLOAD_BASE  where the release assets are (default: the
#                           project's GitHub release for VERSION); a URL
#                           curl understands, file:// included
#   RULELINT_TARGET         the target triple (default: from the runner)
#   RULELINT_INSTALL_DIR    where to unpack (default: the tool cache)
set -euo pipefail

version=${1:?usage: install.sh VERSION}
case "$version" in
  v[0-9]*) ;;
  [0-9]*) version="v$version" ;;
  *) echo "rulelint action: version must look like v1.2.3, got '$version'" >&2; exit 2 ;;
esac
case "$version" in
  *[!A-Za-z0-9.+-]*) echo "rulelint action: invalid version '$version'" >&2; exit 2 ;;
esac

target=${RULELINT_TARGET:-}
if [ -z "$target" ]; then
  os=${RUNNER_OS:-$(uname -s)}
  arch=${RUNNER_ARCH:-$(uname -m)}
  case "$os" in
    Linux) os=unknown-linux-gnu ;;
    macOS|Darwin) os=apple-darwin ;;
    Windows|MINGW*|MSYS*|CYGWIN*) os=pc-windows-msvc ;;
    *) echo "rulelint action: unsupported OS '$os'" >&2; exit 2 ;;
  esac
  case "$arch" in
    X64|x86_64|amd64) arch=x86_64 ;;
    ARM64|arm64|aarch64) arch=aarch64 ;;
    *) echo "rulelint action: unsupported architecture '$arch'" >&2; exit 2 ;;
  esac
  target="$arch-$os"
fi
case "$target" in
  *[!A-Za-z0-9_.-]*) echo "rulelint action: invalid target '$target'" >&2; exit 2 ;;
esac

base=${RULELINT_DOWNLOAD_BASE:-https://github.com/rulelint/rulelint/releases/download/$version}
base=${base%/}
case "$target" in
  *windows*) asset="rulelint-$target.zip"; exe=rulelint.exe ;;
  *) asset="rulelint-$target.tar.gz"; exe=rulelint ;;
esac

dest=${RULELINT_INSTALL_DIR:-${RUNNER_TOOL_CACHE:-${HOME}/.cache}/rulelint/$version/$target}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {
  curl --fail --silent --show-error --location --proto '=https,file' --retry 3 \
    --output "$2" "$1"
}
fetch "$base/SHA256SUMS" "$work/SHA256SUMS" || {
  echo "rulelint action: cannot download $base/SHA256SUMS (is $version released?)" >&2
  exit 1
}
fetch "$base/$asset" "$work/$asset" || {
  echo "rulelint action: no release asset $asset for $version" >&2
  exit 1
}

want=$(awk -v a="$asset" '$2 == a { print $1 }' "$work/SHA256SUMS")
if [ -z "$want" ]; then
  echo "rulelint action: SHA256SUMS has no line for $asset" >&2
  exit 1
fi
if command -v sha256sum >/dev/null 2>&1; then
  got=$(sha256sum "$work/$asset" | cut -d' ' -f1)
else
  got=$(shasum -a 256 "$work/$asset" | cut -d' ' -f1)
fi
if [ "$got" != "$want" ]; then
  echo "rulelint action: checksum mismatch for $asset (expected $want, got $got); not installed" >&2
  exit 1
fi

mkdir -p "$dest"
case "$asset" in
  *.zip) (cd "$dest" && unzip -o -q "$work/$asset" "$exe") ;;
  *) tar -C "$dest" -xzf "$work/$asset" "./$exe" ;;
esac
chmod 755 "$dest/$exe"
"$dest/$exe" --version >/dev/null

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >> "$GITHUB_PATH"
fi
echo "$dest/$exe"
