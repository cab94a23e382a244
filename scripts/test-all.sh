#!/usr/bin/env bash
# Everything the tests need, then every test. Used by the README and by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the suites use (real Chromium for browser tests, real Redis for the broker).
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A fresh clone (CI) has no node_modules: install exactly the lock. An existing install is reused when it
# satisfies package.json (never wiped in a working checkout).
if [ ! -d node_modules ] || ! npm ls --depth=0 >/dev/null 2>&1; then
  npm ci --no-audit --no-fund
fi

npm run typecheck
npm run build
npm run check:package   # npm pack, then publint --strict and attw on the tarball
node scripts/run-tests.mjs
