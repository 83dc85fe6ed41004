#!/usr/bin/python3
"""Renders bench/compare.sh's JSON lines as a markdown table with ratios.

compare.sh runs every configuration in rounds (tapegpt, torch as installed, torch best-tuned,
then again). A ratio is taken within each round, where the three ran back to back, and the
table shows the median over rounds: a burst of load from another tenant of this shared machine
then moves one round, not the figure. Speeds and memory are the medians over rounds too.
"""
import json
import platform
import statistics
import subprocess
import sys

if len(sys.argv) != 2:
    sys.exit("usage: make_table.py COMPARE_JSONL (the lines bench/compare.sh writes)")
rows = []
try:
    with open(sys.argv[1]) as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
            except ValueError as e:
                sys.exit(f"make_table.py: {sys.argv[1]}: line {n}: {e}")
            if not isinstance(r, dict) or "config" not in r or "variant" not in r:
                sys.exit(f"make_table.py: {sys.argv[1]}: line {n} has no config or variant (not from compare.sh?)")
            rows.append(r)
except OSError as e:
    sys.exit(f"make_table.py: {e}")
groups = {}  # (config, threads, mode) -> round -> variant -> row
for r in rows:
    key = (r["config"], r.get("threads", 1), r.get("mode", "train"))
    groups.setdefault(key, {}).setdefault(r.get("round", 1), {})[r["variant"]] = r


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


cpu = subprocess.run("lscpu | grep 'Model name' | cut -d: -f2", shell=True, capture_output=True,
                     text=True).stdout.strip()
rounds = max(len(g) for g in groups.values()) if groups else 0
print(f"Machine: {cpu}, {platform.machine()}; tapegpt GEMM: "
      f"{next((r.get('gemm_engine') for r in rows if r.get('gemm_engine')), '?')}; "
      f"torch {next((r.get('torch_version') for r in rows if r.get('torch_version')), '?')}; "
      f"{rounds} round(s), medians; OPENBLAS_CORETYPE as installed: "
      f"{next((r.get('openblas_coretype') for r in rows if r.get('variant') == 'torch_asis' and r.get('openblas_coretype')), 'unset')}, "
      f"best-tuned: {next((r.get('openblas_coretype') for r in rows if r.get('variant') == 'torch_tuned' and r.get('openblas_coretype')), 'unset')}\n")
print("| config | threads | mode | tapegpt ms | tapegpt tok/s | torch as installed tok/s | "
      "torch best-tuned ms | torch best-tuned tok/s | ../shared reference best-tuned tok/s | "
      "× as installed | × best-tuned | × faster torch | "
      "tapegpt peak RSS MB | torch tuned peak RSS MB | RSS ratio | tapegpt MFU (train) or share of "
      "read bandwidth (generate) | tapegpt heap allocations / page faults per step (or token) |")
print("| --- " * 17 + "|")
for (config, threads, mode), by_round in groups.items():
    rs = [g for g in by_round.values() if "tapegpt" in g]
    if not rs:
        continue

    def field(variant, name):
        return med([g[variant].get(name) for g in rs if variant in g])

    def ratio(variant):  # per round, then the median
        r = med([g["tapegpt"]["tokens_per_s"] / g[variant]["tokens_per_s"] for g in rs if variant in g])
        return f"{r:.2f}" if r else "-"

    torches = ("torch_asis", "torch_tuned", "shared_tuned")  # (the last: ../shared's reference)

    def fastest_ratio():
        r = med([g["tapegpt"]["tokens_per_s"] / max(g[v]["tokens_per_s"] for v in torches if v in g)
                 for g in rs if any(v in g for v in torches)])
        return f"{r:.2f}" if r else "-"

    def num(v, fmt):
        return format(v, fmt) if v is not None else "-"

    def ms(variant):  # per training step, or per generated sequence
        return num(field(variant, "step_ms_median") or field(variant, "gen_ms_median"), ".1f")

    rss_ratio = med([g["tapegpt"]["peak_rss_mb"] / g["torch_tuned"]["peak_rss_mb"]
                     for g in rs if "torch_tuned" in g])
    ours = rs[0]["tapegpt"]
    if "mfu" in ours:
        fill = f"{100 * field('tapegpt', 'mfu'):.0f}% of {field('tapegpt', 'gemm_peak_gflops'):.0f} GFLOP/s"
    elif "bandwidth_fraction" in ours and field('tapegpt', 'weight_mb_per_token') < 32:
        fill = "weights in cache"  # (baby's 3 MB: memory bandwidth is not its limit)
    elif "bandwidth_fraction" in ours:
        fill = (f"{100 * field('tapegpt', 'bandwidth_fraction'):.0f}% of "
                f"{field('tapegpt', 'read_gb_per_s'):.1f} GB/s")
    else:
        fill = "-"
    if "page_faults_per_step" in ours:
        allocs = (f"{field('tapegpt', 'heap_allocations_per_step'):.0f} / "
                  f"{field('tapegpt', 'page_faults_per_step'):.1f}")
    elif "heap_allocations_per_token" in ours:
        allocs = f"{field('tapegpt', 'heap_allocations_per_token'):.2f} per token / -"
    else:
        allocs = "-"
    print(f"| {config} | {threads} | {mode} | {ms('tapegpt')} | {num(field('tapegpt', 'tokens_per_s'), '.0f')} | "
          f"{num(field('torch_asis', 'tokens_per_s'), '.0f')} | {ms('torch_tuned')} | "
          f"{num(field('torch_tuned', 'tokens_per_s'), '.0f')} | {num(field('shared_tuned', 'tokens_per_s'), '.0f')} | "
          f"{ratio('torch_asis')} | "
          f"{ratio('torch_tuned')} | {fastest_ratio()} | {num(field('tapegpt', 'peak_rss_mb'), '.0f')} | "
          f"{num(field('torch_tuned', 'peak_rss_mb'), '.0f')} | {num(rss_ratio, '.2f')} | {fill} | {allocs} |")
