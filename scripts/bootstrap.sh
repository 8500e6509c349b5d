#!/usr/bin/env bash
# The one set-up step behind `npm start` and `npm test`: installs whatever is missing and is a fast
# no-op when everything is there. System packages (as root), MariaDB and Redis running, the offline
# faiss-node build, npm dependencies, schema.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "bootstrap: $*" >&2; }

# 1. System packages.
# libopenblas0-pthread replaces the reference BLAS libfaiss links against: ~10x faster index training.
PACKAGES=(libfaiss-dev libopenblas0-pthread cmake g++ make patch mariadb-server mariadb-client redis-server)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    say "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    exit 1
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# 2. Local MariaDB and Redis, unless they already answer.
wait_for() { # name, probe command...
  local name="$1"; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  say "$name did not come up"; exit 1
}
if ! mysqladmin --protocol=tcp -h 127.0.0.1 -u root ping >/dev/null 2>&1; then
  say "starting MariaDB"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
  wait_for MariaDB mysqladmin --protocol=tcp -h 127.0.0.1 -u root ping
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/kogi.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
fi

# 3. faiss-node compiled against Debian's libfaiss (its own installer needs GitHub).
bash scripts/build-faiss-node.sh >/dev/null

# 4. npm dependencies, reinstalled only when the lockfile changed.
LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.kogi-lock-hash 2>/dev/null)" != "$LOCK_HASH" ]; then
  say "installing npm dependencies"
  export npm_config_faiss_node_local_prebuilds="$ROOT/.cache/faiss-prebuilds"
  # npm 11 can leave other platforms' optional binaries (biome, rolldown) out of the lockfile and then
  # refuse `npm ci` (npm/cli#8320); `npm install` then installs the same locked versions.
  npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error
  echo "$LOCK_HASH" > node_modules/.kogi-lock-hash
fi

# 5. Schema.
node_modules/.bin/tsx api/src/cli/migrate.ts >/dev/null
