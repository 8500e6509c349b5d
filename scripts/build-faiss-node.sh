#!/usr/bin/env bash
# Builds an offline prebuilt binary of faiss-node@0.5.1 into .cache/faiss-prebuilds/.
#
# Why: faiss-node's install script runs `prebuild-install`, which downloads the binary
# from GitHub releases, and falls back to `git clone` of faiss from GitHub. GitHub is not
# reachable here, so we compile faiss-node's own src/faiss.cc against Debian's libfaiss-dev
# (static faiss 1.7.3) and pack it the way prebuild-install expects. Afterwards:
#   npm_config_faiss_node_local_prebuilds="$PWD/.cache/faiss-prebuilds" npm ci
# (the path must be absolute: prebuild-install runs inside node_modules/faiss-node).
#
# Idempotent: exits at once when the tarball exists and was built from the current inputs
# (this script + scripts/faiss-node/*, hashed into a stamp file next to it).
set -euo pipefail

FAISS_NODE_VERSION=0.5.1
NAPI_VERSION=8   # highest of faiss-node's binary.napi_versions [6,7,8] that Node 20 supports
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT_DIR="$ROOT/.cache/faiss-prebuilds"

die() { echo "build-faiss-node: ERROR: $*" >&2; exit 1; }
done_msg() {
  echo "faiss-node prebuild: $TARBALL"
  echo "install with: npm_config_faiss_node_local_prebuilds=$OUT_DIR npm ci"
}

command -v node >/dev/null || die "node not found"
# Same name prebuild-install computes: {name}-v{version}-napi-v{abi}-{platform}-{arch}.tar.gz
PLATFORM_ARCH="$(node -p 'process.platform + "-" + process.arch')"
TARBALL="$OUT_DIR/faiss-node-v$FAISS_NODE_VERSION-napi-v$NAPI_VERSION-$PLATFORM_ARCH.tar.gz"
STAMP="$TARBALL.inputs"
INPUTS_HASH="$(cat "${BASH_SOURCE[0]}" "$ROOT"/scripts/faiss-node/* | sha256sum | cut -d' ' -f1)"

# Fast path: nothing to do.
if [[ -s "$TARBALL" && "$(cat "$STAMP" 2>/dev/null)" == "$INPUTS_HASH" ]]; then done_msg; exit 0; fi

[[ "$PLATFORM_ARCH" == linux-* ]] || die "only Linux (Debian libfaiss-dev) is supported, got $PLATFORM_ARCH"

# System deps: libfaiss-dev pulls in BLAS/LAPACK; OpenMP (libgomp) comes with g++.
APT_PKGS=(libfaiss-dev cmake g++ make patch)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ $(id -u) -eq 0 ]] || die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
  echo "build-faiss-node: apt-get install ${missing[*]}" >&2
  apt-get update -qq || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
fi

WORK="$(mktemp -d /tmp/build-faiss-node.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# faiss-node's source (src/faiss.cc) and the build tools, both from the npm registry.
# The tools go in $WORK/node_modules (not the package's own devDeps, which pull in jest etc.);
# cmake-js finds node-addon-api from there, and uses its bundled node-api-headers, so no
# Node headers are downloaded (faiss-node's package.json declares binary.napi_versions).
# node-addon-api is header-only (compiled in); >= 7.1 for NODE_ADDON_API_CPP_EXCEPTIONS_ALL.
echo '{"private":true}' > package.json
npm pack --silent "faiss-node@$FAISS_NODE_VERSION" >/dev/null || die "npm pack faiss-node@$FAISS_NODE_VERSION failed"
tar -xzf "faiss-node-$FAISS_NODE_VERSION.tgz"   # -> ./package
npm install --silent --no-save --no-package-lock --ignore-scripts --no-audit --no-fund \
  cmake-js@^7.2.1 node-addon-api@^8 >&2 || die "npm install cmake-js node-addon-api failed"

# Worker-thread crash + toBuffer/fromBuffer leak fixes (see the patch's header).
patch -d package -p1 --forward --batch --quiet < "$ROOT/scripts/faiss-node/faiss.cc.patch" \
  || die "faiss.cc.patch does not apply to faiss-node@$FAISS_NODE_VERSION"
# Our CMakeLists links find_package(faiss) instead of the upstream deps/faiss git checkout.
cp "$ROOT/scripts/faiss-node/CMakeLists.txt" "$ROOT/scripts/faiss-node/faiss_compat.h" package/
node_modules/.bin/cmake-js build --directory package --parallel "$(nproc)" --log-level warn >&2 \
  || die "cmake-js build failed (see output above)"

BIN=package/build/Release/faiss-node.node
[[ -f $BIN ]] || die "build produced no $BIN"
# Catch missing shared libs (libblas/liblapack/libgomp) now rather than at npm ci time.
node -e "require(process.argv[1])" "$PWD/$BIN" || die "built $BIN does not load"

# Layout prebuild-install unpacks into node_modules/faiss-node: build/Release/faiss-node.node
mkdir -p "$OUT_DIR"
tar -czf "$TARBALL.tmp" --owner=0 --group=0 --numeric-owner -C package build/Release/faiss-node.node
mv "$TARBALL.tmp" "$TARBALL"   # atomic: a partial tarball never looks "done"
echo "$INPUTS_HASH" > "$STAMP"
done_msg
