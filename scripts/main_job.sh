#!/usr/bin/env bash
# The main job, on a fresh Debian bookworm machine: install what is missing, build (Release),
# prepare the fortunes corpus (char-level), train configs/fortunes-char.toml (the `baby` shape,
# a few minutes on 2 cores), then print samples from the best checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/prepare_fortunes.sh char
./build/tapegpt train --config configs/fortunes-char.toml "$@"
./build/tapegpt inspect out/fortunes-char/best.h5
for seed in 1 2 3; do
  echo "=== sample (seed $seed) ==="
  ./build/tapegpt sample --checkpoint out/fortunes-char/best.h5 --prompt "The " \
      --max_new_tokens 300 --temperature 0.8 --top_k 40 --seed $seed
done
