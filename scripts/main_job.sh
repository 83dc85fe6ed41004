#!/usr/bin/env bash
# The main job: install, build, then time a training step of a fresh `baby` GPT and show what a
# checkpoint holds. (Training on the fortunes corpus and sampling land with the trainer.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/tapegpt bench --steps 20
