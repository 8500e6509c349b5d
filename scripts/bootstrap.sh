#!/usr/bin/env bash
# The one set-up step behind `npm start` and `npm test`: installs whatever is missing and is a fast
# no-op when everything is there. System packages (as root), Docker Compose v2 (project-local, for
# the compose test), MariaDB and Redis running where DATABASE_URL and REDIS_URL point (started here
# only when those are this machine), the offline faiss-node build, npm dependencies exactly as
# package-lock.json says (`npm ci`, never a rewrite of the lockfile), schema.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { echo "bootstrap: $*" >&2; }
die() { say "$*"; exit 1; }

# 1. System packages.
# libopenblas0-pthread replaces the reference BLAS libfaiss links against: ~10x faster index training.
PACKAGES=(libfaiss-dev libopenblas0-pthread cmake g++ make patch mariadb-server mariadb-client redis-server)
# Only the test suite needs these: Debian's nginx (the proxy tests run the repo's nginx.conf) and
# chromium (the /docs page is loaded in a headless browser).
TEST_PACKAGES=(nginx chromium)
is_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in "${PACKAGES[@]}"; do is_installed "$pkg" || missing+=("$pkg"); done
missing_tests=()
for pkg in "${TEST_PACKAGES[@]}"; do is_installed "$pkg" || missing_tests+=("$pkg"); done
if [ "$(id -u)" -eq 0 ]; then
  missing+=("${missing_tests[@]}")
  missing_tests=()
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    die "missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ ${#missing_tests[@]} -gt 0 ]; then
  say "not root: the tests that need ${missing_tests[*]} will fail (sudo apt-get install ${missing_tests[*]})"
fi

# Compose v2 for the test that runs `docker compose config`, unpacked into .cache/compose (no apt
# source, nothing in $HOME). Test-only like nginx and chromium: when it cannot be downloaded the
# script says so in one sentence and that test fails, but `npm start` still works offline.
bash scripts/install-compose.sh || true

# 2. MariaDB and Redis where the configuration points; started here only when that is this machine.
# The same defaults as shared/src/config.ts.
DATABASE_URL="${DATABASE_URL:-mysql://root@127.0.0.1:3306/kogi}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
# host and port of a URL (brackets off an IPv6 host), by Node's own URL parser: "host port".
host_port() {
  node -e 'const u = new URL(process.argv[1]); console.log(u.hostname.replace(/^\[|\]$/g, "") || "127.0.0.1", u.port || process.argv[2])' "$1" "$2" \
    || die "cannot parse $3=$1"
}
is_local() { [[ "$1" == "localhost" || "$1" == 127.* || "$1" == "::1" ]]; }
wait_for() { # what, probe command...
  local what="$1"; shift
  for _ in $(seq 1 60); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "$what did not come up"
}
# mysqladmin ping succeeds whenever a server answers, even one that refuses the login.
mysql_up() { mysqladmin --protocol=tcp -h "$1" -P "$2" --connect-timeout=2 ping; }
# A server that wants a password answers NOAUTH: it is up all the same.
redis_up() { redis-cli -h "$1" -p "$2" ping 2>&1 | grep -Eq "PONG|NOAUTH"; }

read -r DB_HOST DB_PORT < <(host_port "$DATABASE_URL" 3306 DATABASE_URL)
if ! mysql_up "$DB_HOST" "$DB_PORT" >/dev/null 2>&1; then
  is_local "$DB_HOST" || die "MySQL/MariaDB at $DB_HOST:$DB_PORT (DATABASE_URL) does not answer; start it there, or unset DATABASE_URL for a local one"
  if pgrep -x mariadbd >/dev/null 2>&1; then
    die "a MariaDB is running here but not answering on port $DB_PORT (DATABASE_URL): use its port, or stop it"
  fi
  say "starting MariaDB on $DB_HOST:$DB_PORT"
  mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql --port="$DB_PORT"
  wait_for "MariaDB on port $DB_PORT" mysql_up "$DB_HOST" "$DB_PORT"
fi
read -r REDIS_HOST REDIS_PORT < <(host_port "$REDIS_URL" 6379 REDIS_URL)
if ! redis_up "$REDIS_HOST" "$REDIS_PORT"; then
  is_local "$REDIS_HOST" || die "Redis at $REDIS_HOST:$REDIS_PORT (REDIS_URL) does not answer; start it there, or unset REDIS_URL for a local one"
  say "starting Redis on $REDIS_HOST:$REDIS_PORT"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind "$REDIS_HOST" --port "$REDIS_PORT" --save "" --appendonly no \
    --dir /var/lib/redis --logfile "/var/log/redis/kogi-$REDIS_PORT.log"
  wait_for "Redis on port $REDIS_PORT" redis_up "$REDIS_HOST" "$REDIS_PORT"
fi

# 3. faiss-node compiled against Debian's libfaiss (its own installer needs GitHub).
bash scripts/build-faiss-node.sh >/dev/null

# 4. npm dependencies, exactly as locked, reinstalled only when the lockfile changed. `npm ci` never
# writes package-lock.json, so a clone stays clean. The lockfile lists every platform's optional
# binaries (biome, esbuild, rolldown): when npm leaves some out (npm/cli#8320), `npm ci` refuses it and
# scripts/lockfile.test.ts fails; regenerate it with `rm -rf node_modules package-lock.json && npm install`.
LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.kogi-lock-hash 2>/dev/null)" != "$LOCK_HASH" ]; then
  say "installing npm dependencies (npm ci)"
  export npm_config_faiss_node_local_prebuilds="$ROOT/.cache/faiss-prebuilds"
  npm ci --no-audit --no-fund --loglevel=error \
    || die "npm ci failed with the committed package-lock.json (see above); fix the lockfile rather than running npm install here"
  echo "$LOCK_HASH" > node_modules/.kogi-lock-hash
fi

# 5. Schema, with the built CLI (a TypeScript loader costs ~2 s per start; the build is a stat per
# input when nothing changed).
node scripts/build.mjs --if-stale >/dev/null
node --enable-source-maps api/dist/migrate.js >/dev/null
