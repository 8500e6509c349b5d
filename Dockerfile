# syntax=docker/dockerfile:1
# One image for both Kogi processes: the API (default CMD) and the vector sidecar (compose overrides
# the command). One image means one faiss-node build and one set of node_modules to reason about.
#
# Production runs compiled JavaScript: the build stage compiles (`npm run build`), the runtime stage
# gets the dist/ folders and production node_modules only (no tsx, esbuild, TypeScript or other
# devDependencies).
#
#   docker build -t kogi .
#   docker run kogi                                                  # API on :8080 (API_WORKERS: one per core)
#   docker run kogi node vector-worker/dist/main.js                  # vector sidecar

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: compiler toolchain + libfaiss-dev + every npm dependency. None of this ships.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# Same Debian packages scripts/build-faiss-node.sh would apt-get itself; installing them here keeps
# that in a cached layer (and the script's own apt step becomes a no-op). faiss-node's upstream
# installer would fetch binaries/sources from GitHub, which the build may not reach, so the addon is
# compiled against Debian's static libfaiss instead. python3 is for node-gyp, should any other
# dependency ever need a source build. --no-install-recommends makes libfaiss-dev pick reference
# BLAS (libblas-dev), the same one the runtime stage installs below.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libfaiss-dev cmake g++ make patch python3 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# The addon build depends only on these files, so it is cached across lockfile and source changes
# (it is the slowest step). The script drops the prebuild tarball in /app/.cache/faiss-prebuilds.
COPY scripts/build-faiss-node.sh scripts/
COPY scripts/faiss-node/ scripts/faiss-node/
RUN bash scripts/build-faiss-node.sh

# Manifests before sources so `npm ci` is cached until dependencies change. Every workspace listed
# in package.json needs its package.json here or npm refuses the lockfile: add new workspaces here.
COPY package.json package-lock.json ./
COPY shared/package.json shared/
COPY api/package.json api/
COPY vector-worker/package.json vector-worker/
COPY load-tests/package.json load-tests/
# faiss-node's install script (prebuild-install) takes the tarball from this directory instead of
# downloading; the path must be absolute because the script runs inside node_modules/faiss-node.
# --include=dev: the compiler (esbuild) is a devDependency, and a NODE_ENV=production build arg would
# otherwise silently drop it. `npm ci` only, as in scripts/bootstrap.sh: an `npm install` fallback would
# install whatever it resolves instead of the lockfile (scripts/lockfile.test.ts keeps `npm ci` working).
ENV npm_config_faiss_node_local_prebuilds=/app/.cache/faiss-prebuilds
RUN npm ci --include=dev --no-audit --no-fund

COPY . .
# api/dist, vector-worker/dist, dist (the same `npm run build` as on a laptop).
RUN node scripts/build.mjs

# ---------------------------------------------------------------------------------------------
# production files: the build's output and node_modules without devDependencies, gathered in /out.
# ---------------------------------------------------------------------------------------------
FROM build AS production-files
# prune keeps the installed faiss-node addon (a production dependency) and drops tsx, esbuild,
# TypeScript, Vitest, Biome and the rest. Only what the built code reads is copied: the bundles (with
# the migrations and the Piscina worker beside them), the manifests (the "type": "module" of each
# folder) and node_modules, including a workspace's own node_modules should npm ever nest one there.
# The build then fails if any package the lockfile marks dev-only is still in /out.
RUN npm prune --omit=dev --no-audit --no-fund \
 && mkdir -p /out \
 && cp -a package.json node_modules dist /out/ \
 && for pkg in shared api vector-worker load-tests; do \
      mkdir -p "/out/$pkg" && cp -a "$pkg/package.json" "/out/$pkg/" \
      && for part in dist node_modules; do [ ! -e "$pkg/$part" ] || cp -a "$pkg/$part" "/out/$pkg/"; done; \
    done \
 && node scripts/check-no-dev-deps.mjs /out

# ---------------------------------------------------------------------------------------------
# runtime: Node + the shared libraries faiss-node.node links, nothing else.
# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

# From `ldd faiss-node.node`: libblas.so.3, liblapack.so.3 (reference BLAS/LAPACK, as in the build
# stage), libgomp.so.1 (faiss uses OpenMP), libgfortran.so.5 (+ libquadmath0, its dependency; LAPACK
# is Fortran). libstdc++ is already in the base image. faiss itself is linked statically.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libblas3 liblapack3 libgomp1 libgfortran5 \
 && rm -rf /var/lib/apt/lists/*

# NODE_ENV only here: set in the build stage it would make npm skip devDependencies (esbuild).
ENV NODE_ENV=production
WORKDIR /app

# Code stays owned by root so the non-root process cannot rewrite it.
COPY --from=production-files /out /app

# /app/data is the only place the processes write (the vector index). Creating it owned by `node`
# matters: an empty named volume mounted here is seeded with this directory's ownership, so the
# non-root sidecar can write to it.
RUN mkdir -p /app/data && chown node:node /app/data

# The node user (uid 1000) comes with the base image.
USER node

# Fail the build, not the first request, if a runtime library is missing: load the addon (from the
# vector-worker workspace, where it is declared) and touch BLAS through a tiny index; and import every
# package the built code imports (the build lists them), so nothing it needs was pruned away.
RUN cd vector-worker \
 && node -e "const f = require('faiss-node'); const i = new f.IndexFlatL2(2); i.add([0, 1]); if (i.ntotal() !== 1) process.exit(1)" \
 && cd .. && node --input-type=module -e "const { externals } = JSON.parse(await (await import('node:fs/promises')).readFile('dist/.build-manifest.json', 'utf8')); for (const name of externals) await import(name)"

# 8080: API (PORT). 8090: vector sidecar (VECTOR_PORT). Documentation only.
EXPOSE 8080 8090

# Liveness, not readiness: /health answers while the process is alive even if MySQL is down, so
# Docker does not flag a replica that is merely waiting for a dependency. Node's fetch means no
# curl in the image. The vector sidecar listens elsewhere; compose overrides this for it.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8080}/health`, { signal: AbortSignal.timeout(2000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node on the built JavaScript, no loader in between: SIGTERM from `docker stop` (through tini in
# compose) reaches the api's primary, which drains every worker before exiting. API_WORKERS defaults to
# one worker per core; compose runs one per replica (API_WORKERS=1) and scales with replicas instead.
CMD ["node", "--enable-source-maps", "api/dist/main.js"]
