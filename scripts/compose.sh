#!/usr/bin/env bash
# `docker compose "$@"` with Compose v2: the system's plugin when there is one, else the copy
# scripts/install-compose.sh (run by the bootstrap) unpacked into .cache/compose/.
#   bash scripts/compose.sh config -q
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.cache/compose"

if docker compose version >/dev/null 2>&1; then exec docker compose "$@"; fi
if [ -x "$LOCAL/cli-plugins/docker-compose" ]; then
  # The docker CLI finds the plugin through this config's cliPluginsExtraDirs; without a docker CLI
  # the plugin binary runs standalone with the same commands.
  if command -v docker >/dev/null; then DOCKER_CONFIG="$LOCAL/docker-config" exec docker compose "$@"; fi
  exec "$LOCAL/cli-plugins/docker-compose" "$@"
fi
echo "compose: Docker Compose v2 is not installed: scripts/bootstrap.sh should have put it in .cache/compose (run \`bash scripts/install-compose.sh\` and see why it could not)" >&2
exit 127
