#!/usr/bin/env bash
# Docker Compose v2 for checking docker-compose.yml (load-tests/deploy/drift.test.ts runs
# `docker compose config`), installed into .cache/compose/ without touching apt sources or $HOME.
#
# Bookworm's docker-compose is v1 (it rejects the top-level `name:`), and Docker's own plugin
# package is not in Debian, so this takes trixie's docker-compose .deb (Compose v2, a static Go
# binary) from deb.debian.org and unpacks it with `dpkg-deb -x`. The pinned version and SHA256 come
# from trixie's Packages index; when a point release has replaced that .deb in the pool, or on
# another architecture, the current one is looked up in the signed index instead (InRelease checked
# by gpgv against debian-archive-keyring, then Packages.xz, then the .deb, each by its SHA256).
# Use it as `bash scripts/compose.sh ...` or `DOCKER_CONFIG=$PWD/.cache/compose/docker-config docker compose ...`.
#
# A no-op (file reads only) when already unpacked; nothing to do when `docker compose` works already.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
say() { echo "bootstrap: $*" >&2; }
die() { say "$*"; exit 1; }

MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE=trixie
# From dists/trixie/main/binary-amd64/Packages.xz (Debian 13.8).
PINNED_VERSION=2.26.1-4
PINNED_SHA256_amd64=47681197cb2b1ab88206b42a1a92fc75f50d9530a6322d03494a473eed0408ea
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

CACHE="$ROOT/.cache/compose"
PLUGINS="$CACHE/cli-plugins"
CONFIG_DIR="$CACHE/docker-config"
CONFIG_JSON="{\"cliPluginsExtraDirs\": [\"$PLUGINS\"]}"
ARCH="$(dpkg --print-architecture)"
WANTED="$PINNED_VERSION $ARCH"

write_config() {
  mkdir -p "$CONFIG_DIR"
  [ "$(cat "$CONFIG_DIR/config.json" 2>/dev/null)" == "$CONFIG_JSON" ] || echo "$CONFIG_JSON" > "$CONFIG_DIR/config.json"
}

# Fast path: unpacked for this pin and architecture (the config is rewritten if the checkout moved).
if [ -x "$PLUGINS/docker-compose" ] && [ "$(cat "$CACHE/wanted" 2>/dev/null)" == "$WANTED" ]; then
  write_config
  exit 0
fi
if docker compose version >/dev/null 2>&1; then exit 0; fi

command -v curl >/dev/null || die "cannot install Docker Compose v2: curl is not installed"
mkdir -p "$ROOT/.cache"
WORK="$(mktemp -d "$ROOT/.cache/compose-download.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fetch() { curl -fsL --connect-timeout 5 --retry 1 -o "$2" "$MIRROR/$1"; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
unreachable() {
  die "cannot download Docker Compose v2 from $MIRROR ($1); the docker compose config test will fail until this machine can reach it (or install Compose v2 system-wide)"
}

pinned_sha="PINNED_SHA256_$ARCH"
filename="pool/main/d/docker-compose/docker-compose_${PINNED_VERSION}_$ARCH.deb"
sha256="${!pinned_sha:-}"
version="$PINNED_VERSION"
if [ -z "$sha256" ] || ! fetch "$filename" "$WORK/compose.deb" 2>/dev/null; then
  # Not pinned for this architecture, or gone from the pool: ask the signed index.
  fetch "dists/$SUITE/InRelease" "$WORK/InRelease" || unreachable "dists/$SUITE/InRelease"
  gpgv --keyring "$KEYRING" --output "$WORK/Release" "$WORK/InRelease" 2>/dev/null \
    || die "cannot install Docker Compose v2: $MIRROR/dists/$SUITE/InRelease does not verify against $KEYRING"
  index="main/binary-$ARCH/Packages.xz"
  index_sha="$(awk -v f="$index" '/^SHA256:/ { on = 1; next } /^[^ ]/ { on = 0 } on && $3 == f { print $1 }' "$WORK/Release")"
  fetch "dists/$SUITE/$index" "$WORK/Packages.xz" || unreachable "dists/$SUITE/$index"
  [ -n "$index_sha" ] && [ "$(sha256_of "$WORK/Packages.xz")" == "$index_sha" ] \
    || die "cannot install Docker Compose v2: $index does not match the SHA256 in the signed Release file"
  read -r version filename sha256 < <(xz -dc "$WORK/Packages.xz" | awk '
    /^Package: / { pkg = $2 } /^Version: / { v = $2 } /^Filename: / { f = $2 } /^SHA256: / { s = $2 }
    /^$/ { if (pkg == "docker-compose") { print v, f, s; exit } pkg = "" }') \
    || die "cannot install Docker Compose v2: trixie has no docker-compose package for $ARCH"
  say "docker-compose $PINNED_VERSION is not in trixie's pool for $ARCH; installing $version (update the pin in scripts/install-compose.sh)"
  fetch "$filename" "$WORK/compose.deb" || unreachable "$filename"
fi
[ "$(sha256_of "$WORK/compose.deb")" == "$sha256" ] \
  || die "cannot install Docker Compose v2: $filename does not match its SHA256 ($sha256)"

say "installing Docker Compose $version (Debian trixie) into .cache/compose"
dpkg-deb -x "$WORK/compose.deb" "$WORK/root"
"$WORK/root/usr/libexec/docker/cli-plugins/docker-compose" version >/dev/null \
  || die "cannot install Docker Compose v2: the unpacked docker-compose $version does not run here"
rm -rf "$PLUGINS"
mkdir -p "$CACHE"
mv "$WORK/root/usr/libexec/docker/cli-plugins" "$PLUGINS"
echo "$WANTED" > "$CACHE/wanted"
write_config
