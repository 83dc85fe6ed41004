"""torch_gpt.py -- the PyTorch reference GPT that tapegpt is checked against.

nanoGPT's architecture (pre-LN blocks, learned positions, lm_head tied to wte) with GPT-2's
tanh-GELU (nanoGPT's nn.GELU() is the exact erf form; tapegpt uses tanh, as GPT-2 did),
written here for the parity tests and benchmarks, plus tapegpt's `attention` pattern: a
"local" layer masks scores outside the band t-W+1 .. t (an explicit band mask, the slow but
obviously-correct way).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, n, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg, window):
        super().__init__()
        C = cfg["n_embd"]
        self.c_attn = nn.Linear(C, 3 * C, bias=cfg["bias"])
        self.c_proj = nn.Linear(C, C, bias=cfg["bias"])
        self.n_head = cfg["n_head"]
        self.window = window  # 0 = dense

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        hs = C // self.n_head
        q = q.view(B, T, self.n_head, hs).transpose(1, 2)
        k = k.view(B, T, self.n_head, hs).transpose(1, 2)
        v = v.view(B, T, self.n_head, hs).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs))
        t = torch.arange(T)
        allowed = t[None, :] <= t[:, None]  # causal
        if self.window:
            allowed &= t[None, :] > t[:, None] - self.window  # the band
        att = att.masked_fill(~allowed, float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        C = cfg["n_embd"]
        self.c_fc = nn.Linear(C, 4 * C, bias=cfg["bias"])
        self.c_proj = nn.Linear(4 * C, C, bias=cfg["bias"])

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, cfg, window):
        super().__init__()
        self.ln_1 = LayerNorm(cfg["n_embd"], cfg["bias"])
        self.attn = CausalSelfAttention(cfg, window)
        self.ln_2 = LayerNorm(cfg["n_embd"], cfg["bias"])
        self.mlp = MLP(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


def layer_windows(cfg):
    words = [w.strip() for w in cfg.get("attention", "dense").split(",")]
    return [cfg["attn_window"] if words[i % len(words)] == "local" else 0
            for i in range(cfg["n_layer"])]


class GPT(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(cfg["vocab_size"], cfg["n_embd"]),
            wpe=nn.Embedding(cfg["block_size"], cfg["n_embd"]),
            h=nn.ModuleList([Block(cfg, w) for w in layer_windows(cfg)]),
            ln_f=LayerNorm(cfg["n_embd"], cfg["bias"]),
        ))
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # tied

    def forward(self, idx, targets=None):
        T = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(T))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is None:  # inference, as nanoGPT: the head on the last position only
            return self.lm_head(x[:, [-1], :]), None
        logits = self.lm_head(x)
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                               ignore_index=-1)
        return logits, loss


def config_from_h5(f):
    c = f["config"].attrs
    return {"vocab_size": int(c["vocab_size"]), "block_size": int(c["block_size"]),
            "n_layer": int(c["n_layer"]), "n_head": int(c["n_head"]),
            "n_embd": int(c["n_embd"]), "bias": bool(c["bias"]),
            "attention": str(c["attention"]), "attn_window": int(c["attn_window"])}


def load_checkpoint(path):
    """A tapegpt checkpoint → a torch GPT, loaded with h5py by state_dict key, as a user would."""
    import h5py
    with h5py.File(path, "r") as f:
        model = GPT(config_from_h5(f))
        state = {k: torch.from_numpy(v[()]) for k, v in f["model"].items()}
    model.load_state_dict(state, strict=True)
    return model


def init_weights(model, n_layer, seed=None):
    """nanoGPT's initialisation: N(0, 0.02), residual projections (c_proj.weight) N(0,
    0.02/sqrt(2·n_layer)), biases 0, LayerNorm weights 1."""
    if seed is not None:
        torch.manual_seed(seed)
    for name, p in model.named_parameters():
        if name.endswith("bias"):
            torch.nn.init.zeros_(p)
        elif ".ln_" in name or "ln_f" in name:
            torch.nn.init.ones_(p)
        else:
            std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
            torch.nn.init.normal_(p, 0.0, std)


def read_tokens(path):
    """A tapegpt token file (.bin): 32-byte header (magic TGTOKENS, version, bytes per token,
    count, vocab size), then little-endian ids. Returns (int64 numpy array, vocab_size)."""
    import numpy as np
    raw = open(path, "rb").read()
    assert raw[:8] == b"TGTOKENS", path
    width = int.from_bytes(raw[12:16], "little")
    count = int.from_bytes(raw[16:24], "little")
    vocab = int.from_bytes(raw[24:32], "little")
    dtype = np.uint16 if width == 2 else np.uint32
    return np.frombuffer(raw[32:32 + count * width], dtype=dtype).astype(np.int64), vocab
