#!/usr/bin/env bash
# Dense vs locally banded attention: forward + backward of one attention op (C=384, 6 heads,
# batch 1, W=128) at T = 256, 1024, 4096, in one run. Prints a markdown table with the ratios
# the sparse-attention issue asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
build_log=$(mktemp)  # quiet unless the build fails (ninja prints compiler errors on stdout)
bash scripts/build.sh > "$build_log" 2>&1 || { cat "$build_log" >&2; exit 1; }
rm -f "$build_log"
out=bench/results/attention.jsonl
: > "$out"
for T in 256 1024 4096; do
  for kind in dense local; do
    ./build/tapegpt bench --mode attention --attention $kind --attn_window 128 --block_size $T \
        --n_embd 384 --n_head 6 --batch_size 1 --steps 30 >> "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t = {(r["block_size"], r["attention"]): r for r in rows}
print("| T | dense ms (fwd+bwd) | local W=128 ms | dense/local | dense peak RSS MB | local peak RSS MB |")
print("| --- | --- | --- | --- | --- | --- |")
for T in (256, 1024, 4096):
    d, l = t[(T, "dense")], t[(T, "local")]
    print(f"| {T} | {d['fwd_bwd_ms_median']:.2f} | {l['fwd_bwd_ms_median']:.2f} | "
          f"{d['fwd_bwd_ms_median'] / l['fwd_bwd_ms_median']:.1f}x | {d['peak_rss_mb']:.0f} | {l['peak_rss_mb']:.0f} |")
g = lambda k: t[(4096, k)]["fwd_bwd_ms_median"] / t[(1024, k)]["fwd_bwd_ms_median"]
print(f"\ntime(4096)/time(1024): dense {g('dense'):.1f}, local {g('local'):.1f}")
PY
