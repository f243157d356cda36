#!/usr/bin/env bash
# The whole test suite: installs the real programs the tests talk to, builds, runs node's test
# runner over every compiled test file. `npm test -- PATH...` runs only the given test files.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-tools.sh
npm run build --silent

if [ $# -gt 0 ]; then
  exec node --test "$@"
fi
exec node --test dist/test/
