#!/usr/bin/env bash
# The whole test suite: install, build (Release, 2 jobs), run every test under CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build && ctest --output-on-failure -j2
