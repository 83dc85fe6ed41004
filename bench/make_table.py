#!/usr/bin/python3
"""Renders bench/compare.sh's JSON lines as a markdown table with ratios."""
import json
import platform
import subprocess
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    key = (r["config"], r.get("threads", 1), r.get("mode", "train"))
    groups.setdefault(key, {})[r["variant"]] = r

cpu = subprocess.run("lscpu | grep 'Model name' | cut -d: -f2", shell=True, capture_output=True,
                     text=True).stdout.strip()
print(f"Machine: {cpu}, {platform.machine()}; tapegpt GEMM: "
      f"{next((r.get('gemm_engine') for r in rows if r.get('gemm_engine')), '?')}; "
      f"torch {next((r.get('torch_version') for r in rows if r.get('torch_version')), '?')}\n")
print("| config | threads | mode | tapegpt ms | tapegpt tok/s | torch as installed tok/s | "
      "torch best-tuned ms | torch best-tuned tok/s | × as installed | × best-tuned | "
      "tapegpt peak RSS MB | torch tuned peak RSS MB | RSS ratio | tapegpt MFU (train) or share of "
      "read bandwidth (generate) | tapegpt heap allocations / page faults per step |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (config, threads, mode), g in groups.items():
    ours, asis, tuned = g.get("tapegpt"), g.get("torch_asis"), g.get("torch_tuned")
    if not ours:
        continue
    tps = ours["tokens_per_s"]
    def ratio(other):
        return f"{tps / other['tokens_per_s']:.2f}" if other else "-"
    def tok(other):
        return f"{other['tokens_per_s']:.0f}" if other else "-"
    rss_ratio = f"{ours['peak_rss_mb'] / tuned['peak_rss_mb']:.2f}" if tuned else "-"
    if "mfu" in ours:
        mfu = f"{100 * ours['mfu']:.0f}% of {ours['gemm_peak_gflops']:.0f} GFLOP/s"
    elif "bandwidth_fraction" in ours:
        mfu = f"{100 * ours['bandwidth_fraction']:.0f}% of {ours['read_gb_per_s']:.1f} GB/s"
    else:
        mfu = "-"
    allocs = (f"{ours['heap_allocations_per_step']:.0f} / {ours['page_faults_per_step']:.1f}"
              if "page_faults_per_step" in ours else "-")
    def ms(r):  # per training step, or per generated sequence
        if not r:
            return "-"
        return f"{r.get('step_ms_median', r.get('gen_ms_median', 0)):.1f}"
    print(f"| {config} | {threads} | {mode} | {ms(ours)} | {tps:.0f} | {tok(asis)} | {ms(tuned)} | "
          f"{tok(tuned)} | {ratio(asis)} | {ratio(tuned)} | {ours['peak_rss_mb']:.0f} | "
          f"{tuned['peak_rss_mb'] if tuned else 0:.0f} | {rss_ratio} | {mfu} | {allocs} |")
