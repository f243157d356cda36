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

# The whole suite records what its processes print and the tokens it signs; test/whole-suite/
# runs last (files run one at a time, in path order) and scans the one for the other.
record=$(mktemp -d)
trap 'rm -rf "$record"' EXIT
TOKENGATE_TEST_RECORD_DIR=$record node --test --test-concurrency=1 dist/test/
