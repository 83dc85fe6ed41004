#!/usr/bin/python3
"""torch_bench.py -- the PyTorch side of tapegpt's benchmarks (same model, same AdamW).

The model is tests/python/torch_gpt.py (nanoGPT's GPT), initialised as nanoGPT, trained with
torch.optim.AdamW(lr 3e-4, betas 0.9/0.95, wd 0.1 on >=2-D tensors) on random tokens, dropout 0.
Prints one JSON line with the same keys as `tapegpt bench --json`.

  OMP_NUM_THREADS=2 /usr/bin/python3 bench/torch_bench.py --threads 2 --n_layer 4 --n_head 4 \
      --n_embd 128 --block_size 64 --batch_size 12 --vocab_size 65 --steps 50
  ... --mode generate   # batch 1, 16-token prompt, 128 new tokens, no KV cache (nanoGPT's loop)
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "python"))
from torch_gpt import GPT, init_weights  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["train", "generate"], default="train")
    for k, v in dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=12,
                     vocab_size=65, steps=20, warmup=3, threads=2, seed=1337,
                     attn_window=128, prompt_len=16, gen_tokens=128).items():
        ap.add_argument("--" + k, type=int, default=v)
    ap.add_argument("--attention", default="dense")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    cfg = dict(vocab_size=a.vocab_size, block_size=a.block_size, n_layer=a.n_layer,
               n_head=a.n_head, n_embd=a.n_embd, bias=True, attention=a.attention,
               attn_window=a.attn_window)
    model = GPT(cfg)
    init_weights(model, a.n_layer)
    n_params = sum(p.numel() for p in model.parameters())
    B, T, V = a.batch_size, a.block_size, a.vocab_size
    rec = {"impl": "torch", "mode": a.mode, "n_layer": a.n_layer, "n_head": a.n_head,
           "n_embd": a.n_embd, "block_size": T, "batch_size": B, "vocab_size": V,
           "attention": a.attention, "threads": a.threads, "params": n_params,
           "torch_version": torch.__version__,
           "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
           "LD_PRELOAD": os.environ.get("LD_PRELOAD", ""),
           "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "")}
    g = torch.Generator().manual_seed(a.seed + 1)
    if a.mode == "train":
        decay = [p for p in model.parameters() if p.dim() >= 2]
        nodecay = [p for p in model.parameters() if p.dim() < 2]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                                 {"params": nodecay, "weight_decay": 0.0}],
                                lr=3e-4, betas=(0.9, 0.95))
        xs = [torch.randint(0, V, (B, T), generator=g) for _ in range(8)]
        ys = [torch.randint(0, V, (B, T), generator=g) for _ in range(8)]
        times = []
        for it in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            _, loss = model(xs[it % 8], ys[it % 8])
            loss.backward()
            opt.step()
            if it >= a.warmup:
                times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rec.update(step_ms_median=med * 1e3, step_ms_min=min(times) * 1e3,
                   tokens_per_s=B * T / med,
                   flops_per_token=6 * n_params + 12 * a.n_layer * a.n_embd * T)
        rec["achieved_gflops"] = rec["flops_per_token"] * rec["tokens_per_s"] / 1e9
    else:
        model.eval()
        prompt = torch.randint(0, V, (1, a.prompt_len), generator=g)
        times = []
        with torch.no_grad():
            for it in range(a.warmup + a.steps):
                idx = prompt
                t0 = time.perf_counter()
                for _ in range(a.gen_tokens):
                    logits, _ = model(idx[:, -T:])
                    probs = F.softmax(logits[:, -1, :], dim=-1)
                    idx = torch.cat((idx, torch.multinomial(probs, 1)), dim=1)
                if it >= a.warmup:
                    times.append(time.perf_counter() - t0)
        med = statistics.median(times)
        rec.update(gen_ms_median=med * 1e3, tokens_per_s=a.gen_tokens / med, kv_cache=False)
    rec["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
