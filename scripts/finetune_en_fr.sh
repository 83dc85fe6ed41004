#!/usr/bin/env bash
# Pretrain on English (fortunes, BPE), then fine-tune on English→French dictionary pairs;
# prints the held-out completion loss before and after, and few-shot samples.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
bash scripts/prepare_fortunes.sh bpe 2048
[ -f out/fortunes-bpe/best.h5 ] || ./build/tapegpt train --config configs/fortunes-bpe.toml
mkdir -p data_cache/en-fr
if [ ! -f data_cache/en-fr/val.jsonl ]; then
  python3 scripts/make_en_fr_pairs.py --out data_cache/en-fr/all.jsonl
  awk 'NR % 10 == 0' data_cache/en-fr/all.jsonl > data_cache/en-fr/val.jsonl   # held out
  awk 'NR % 10 != 0' data_cache/en-fr/all.jsonl > data_cache/en-fr/train.jsonl
fi
echo "held-out completion loss before fine-tuning:"
./build/tapegpt eval --checkpoint out/fortunes-bpe/best.h5 --data data_cache/en-fr/val.jsonl
./build/tapegpt finetune --config configs/finetune-en-fr.toml "$@"
echo "held-out completion loss after fine-tuning:"
./build/tapegpt eval --checkpoint out/finetune-en-fr/best.h5 --data data_cache/en-fr/val.jsonl
for word in bread water night; do
  ./build/tapegpt sample --checkpoint out/finetune-en-fr/best.h5 --temperature 0 --max_new_tokens 6 \
    --prompt "$(printf 'english: dog\nfrench: chien\nenglish: house\nfrench: maison\nenglish: %s\nfrench:' "$word")"
  echo
done
