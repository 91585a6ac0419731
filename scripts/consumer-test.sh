#!/usr/bin/env bash
# The packages as a user gets them: packs @httpool/core and @httpool/node (their prepack builds
# dist/), installs the tarballs into a new project outside the workspace (scripts/consumer/:
# TypeScript strict, NodeNext, exactOptionalPropertyTypes), type-checks it,
# runs its ES module program and its CommonJS one against a loopback server, and runs its
# @effect/vitest suite. Third-party versions are the workspace's own, so npm finds them in its
# cache. Exits non-zero on the first failure. Usage: bash scripts/consumer-test.sh [--keep]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/httpool-consumer.XXXXXX")
if [ "${1:-}" = "--keep" ]; then echo "consumer-test: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
started=$SECONDS

step() { echo "consumer-test: $1 ($((SECONDS - started)) s)"; }

step "packing"
for pkg in core node; do
  (cd "$root/packages/$pkg" && npm pack --silent --pack-destination "$work" >/dev/null)
done
for tarball in "$work"/httpool-core-*.tgz "$work"/httpool-node-*.tgz; do
  listing=$(tar -tzf "$tarball")
  for file in package/README.md package/LICENSE package/dist/index.js package/dist/index.js.map \
    package/dist/index.d.ts package/dist/index.d.ts.map package/src/index.ts; do
    grep -qx "$file" <<<"$listing" || { echo "consumer-test: $(basename "$tarball") has no $file" >&2; exit 1; }
  done
  if grep -q '^package/\(test\|build\)/' <<<"$listing"; then
    echo "consumer-test: $(basename "$tarball") ships tests or build output" >&2
    exit 1
  fi
done

step "installing the tarballs into $work/project"
cp -R "$root/scripts/consumer" "$work/project"
version() { node -p "require('$root/node_modules/$1/package.json').version"; }
core=$(ls "$work"/httpool-core-*.tgz)
node=$(ls "$work"/httpool-node-*.tgz)
cat >"$work/project/package.json" <<JSON
{
  "name": "httpool-consumer",
  "private": true,
  "type": "module",
  "dependencies": {
    "@httpool/core": "file:$core",
    "@httpool/node": "file:$node",
    "effect": "$(version effect)",
    "@effect/platform": "$(version @effect/platform)"
  },
  "devDependencies": {
    "@effect/vitest": "$(version @effect/vitest)",
    "@types/node": "$(version @types/node)",
    "typescript": "$(version typescript)",
    "vitest": "$(version vitest)"
  }
}
JSON
cd "$work/project"
npm install --prefer-offline --no-audit --no-fund --loglevel=error >install.log 2>&1 || {
  cat install.log >&2
  exit 1
}
[ -L node_modules/@httpool/core ] && { echo "consumer-test: @httpool/core is a link, not an install" >&2; exit 1; }

step "type-checking (tsc)"
node node_modules/typescript/bin/tsc -p tsconfig.json

step "running the ES module program"
node dist/src/main.js
step "running the CommonJS program"
node dist/src/commonjs.cjs

step "running the it.scoped suite (vitest)"
node node_modules/vitest/vitest.mjs run --root . --reporter=dot
step "passed"
