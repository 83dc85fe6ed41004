#!/usr/bin/env bash
# Side-by-side training and generation speed: tapegpt vs the PyTorch reference (bench/torch_bench.py,
# the same model and AdamW), one after another in this one script, same thread count.
#   tapegpt      the machine's default environment (a user tunes nothing)
#   torch asis   OMP_NUM_THREADS only
#   torch tuned  + OMP_WAIT_POLICY=passive, tcmalloc, OpenBLAS's AVX-512 kernels (best found;
#                see TUNED_CORETYPE below)
# Every configuration runs in ROUNDS rounds (default 3) of the three variants back to back;
# the table takes each ratio within a round and shows the median (bench/make_table.py): this
# machine is shared, and a burst of someone else's load would otherwise decide a ratio.
# Writes bench/results/compare.jsonl and the table bench/results/compare.md; unless --quick, also
# the GEMM engine table bench/results/gemm_engines.md, and the table into bench/RESULTS.md.
#   usage: [ROUNDS=n] bench/compare.sh [--quick]   (--quick: fewer steps, baby and mini, 1 round)
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
TCMALLOC=/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4
need=()
[ -f "$TCMALLOC" ] || need+=(libtcmalloc-minimal4)
# python3-torch runs on whatever libblas.so.3 is selected; OpenBLAS is what a user gets with
# its recommended packages (the reference BLAS would make PyTorch ~5x slower).
dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "ok installed" || need+=(libopenblas0-pthread)
if [ ${#need[@]} -gt 0 ]; then
  apt-get install -y -qq "${need[@]}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; }
fi
build_log=$(mktemp)  # quiet unless the build fails (ninja prints compiler errors on stdout)
bash scripts/build.sh > "$build_log" 2>&1 || { cat "$build_log" >&2; exit 1; }
rm -f "$build_log"

measured_commit=$(git rev-parse --short HEAD 2>/dev/null || echo "an unknown commit")
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  measured_commit="$measured_commit plus uncommitted changes"
fi
out=bench/results/compare.jsonl
: > "$out"
BABY="--n_layer 4 --n_head 4 --n_embd 128 --block_size 64 --batch_size 12 --vocab_size 65"
MINI="--n_layer 6 --n_head 6 --n_embd 384 --block_size 256 --batch_size 8 --vocab_size 50257"
GPT2="--n_layer 12 --n_head 12 --n_embd 768 --block_size 64 --batch_size 4 --vocab_size 50257"

# Best-tuned PyTorch runs on OpenBLAS's AVX-512 sgemm kernels. Where the reference was measured,
# OpenBLAS 0.3.21 chose them itself once OPENBLAS_CORETYPE was unset; on a CPU model newer than it
# knows (this VM's Xeon, family 6 model 207) it falls back to its SSE3 "Prescott" kernels (torch.mm
# 2048³ at 2 threads: 48 GFLOP/s, against 128 with Haswell and 167-233 with Cooperlake or
# SkylakeX, measured in session 7). So the tuned run names the
# kernels: Cooperlake (what the reference machine detected) where the CPU has AVX-512 BF16,
# SkylakeX where it has AVX-512, Haswell otherwise.
if grep -q avx512_bf16 /proc/cpuinfo; then TUNED_CORETYPE=Cooperlake
elif grep -q avx512f /proc/cpuinfo; then TUNED_CORETYPE=SkylakeX
else TUNED_CORETYPE=Haswell; fi

# ../shared's PyTorch reference, where it sits beside the project (a user's clone has only
# bench/torch_bench.py): run best-tuned beside ours in every set, so a drift between the two
# (session 17 found ours doing 2.7x the generation work on mini) shows in the table.
SHARED_REFERENCE=${SHARED_REFERENCE:-../shared/bench/torch_gpt_bench.py}

round=1
tag() {  # tag CONFIG VARIANT [CORETYPE]: adds labels to the JSON line on stdin
  /usr/bin/python3 -c "import json,sys
for l in sys.stdin:
    l=l.strip()
    if l.startswith('{'):
        d=json.loads(l); d['config']='$1'; d['variant']='$2'; d['round']=$round
        if '${3:-}': d['openblas_coretype']='${3:-}'
        print(json.dumps(d))" >> "$out"
}
run_set() {  # run_set CONFIG THREADS MODE STEPS WARMUP ARGS...
  local name=$1 t=$2 mode=$3 steps=$4 warmup=$5; shift 5
  echo "== round $round: $name, $t thread(s), $mode" >&2
  OMP_NUM_THREADS=$t ./build/tapegpt bench --json --mode "$mode" --steps "$steps" --warmup "$warmup" "$@" | tag "$name" tapegpt
  OMP_NUM_THREADS=$t /usr/bin/python3 bench/torch_bench.py --threads "$t" --mode "$mode" --steps "$steps" --warmup "$warmup" "$@" | tag "$name" torch_asis "${OPENBLAS_CORETYPE:-}"
  env OPENBLAS_CORETYPE=$TUNED_CORETYPE OMP_NUM_THREADS=$t OMP_WAIT_POLICY=passive LD_PRELOAD=$TCMALLOC \
    /usr/bin/python3 bench/torch_bench.py --threads "$t" --mode "$mode" --steps "$steps" --warmup "$warmup" "$@" 2> >(grep -v 'tcmalloc: large alloc' >&2) | tag "$name" torch_tuned "$TUNED_CORETYPE"
  if [ -f "$SHARED_REFERENCE" ]; then
    env OPENBLAS_CORETYPE=$TUNED_CORETYPE OMP_NUM_THREADS=$t OMP_WAIT_POLICY=passive LD_PRELOAD=$TCMALLOC \
      /usr/bin/python3 "$SHARED_REFERENCE" --threads "$t" --mode "$mode" --steps "$steps" --warmup "$warmup" "$@" 2> >(grep -v 'tcmalloc: large alloc' >&2) | tag "$name" shared_tuned "$TUNED_CORETYPE"
  fi
}

if [ "$quick" = "--quick" ]; then
  run_set baby 2 train 50 5 $BABY
  run_set mini 2 train 3 1 $MINI
else
  for round in $(seq 1 "${ROUNDS:-3}"); do
    run_set baby 2 train 200 10 $BABY
    run_set mini 2 train 6 2 $MINI
    run_set gpt2 2 train 6 2 $GPT2
    run_set baby 1 train 100 5 $BABY
    run_set mini 1 train 3 1 $MINI
    run_set baby 2 generate 10 2 $BABY
    run_set mini 2 generate 3 1 $MINI
  done
  # The GEMM engines on the model's own products, 2 threads and 1 (bench/gemm_engines.cpp).
  # (A CPU it cannot compare on must not stop the rounds' table from being written.)
  if [ -x build/gemm_engines ]; then
    { echo "## 2 threads"; OMP_NUM_THREADS=2 ./build/gemm_engines 6
      echo; echo "## 1 thread"; OMP_NUM_THREADS=1 ./build/gemm_engines 4; } > bench/results/gemm_engines.md ||
      echo "compare: gemm_engines failed; bench/results/gemm_engines.md is incomplete" >&2
  fi
fi
/usr/bin/python3 bench/make_table.py "$out" > bench/results/compare.md
cat bench/results/compare.md
# A full run's table also goes into bench/RESULTS.md (its marked block), with the commit measured.
if [ "$quick" != "--quick" ]; then
  /usr/bin/python3 bench/put_table_in_results.py bench/results/compare.md bench/RESULTS.md "$measured_commit"
fi
