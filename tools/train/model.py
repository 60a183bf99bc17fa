"""llama.cpp's llama architecture in PyTorch, exactly.

RMSNorm (eps 1e-5) -> q/k/v/o without bias, RoPE in NORM mode (rotates ADJACENT pairs
x[2i], x[2i+1] by pos * 10000^(-2i/head_dim); not Hugging Face's rotate-half), causal
softmax / sqrt(head_dim), residual; RMSNorm -> down(silu(gate(x)) * up(x)), residual;
final RMSNorm -> untied output.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

EPS = 1e-5
ROPE_THETA = 10000.0


class RMSNorm(nn.Module):
    def __init__(self, d: int):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * self.weight


def rope(x: torch.Tensor) -> torch.Tensor:
    """x [batch, heads, seq, head_dim]; rotate adjacent pairs (llama.cpp LLAMA_ROPE_TYPE_NORM)."""
    _, _, t, hd = x.shape
    inv = ROPE_THETA ** (-torch.arange(0, hd, 2, dtype=torch.float32) / hd)
    ang = torch.arange(t, dtype=torch.float32)[:, None] * inv[None, :]
    cos, sin = ang.cos(), ang.sin()
    x0, x1 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, d: int, heads: int, ff: int):
        super().__init__()
        self.heads = heads
        self.attn_norm = RMSNorm(d)
        self.attn_q = nn.Linear(d, d, bias=False)
        self.attn_k = nn.Linear(d, d, bias=False)
        self.attn_v = nn.Linear(d, d, bias=False)
        self.attn_output = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d)
        self.ffn_gate = nn.Linear(d, ff, bias=False)
        self.ffn_up = nn.Linear(d, ff, bias=False)
        self.ffn_down = nn.Linear(ff, d, bias=False)

    def forward(self, x, mask):
        b, t, d = x.shape
        hd = d // self.heads
        h = self.attn_norm(x)
        q, k, v = (m(h).view(b, t, self.heads, hd).transpose(1, 2) for m in (self.attn_q, self.attn_k, self.attn_v))
        q, k = rope(q), rope(k)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd)
        att = att.masked_fill(mask[:t, :t], float("-inf")).softmax(-1)
        x = x + self.attn_output((att @ v).transpose(1, 2).reshape(b, t, d))
        h = self.ffn_norm(x)
        return x + self.ffn_down(F.silu(self.ffn_gate(h)) * self.ffn_up(h))


class Llama(nn.Module):
    def __init__(self, vocab: int, d: int, layers: int, heads: int, ff: int, max_len: int = 64):
        super().__init__()
        assert d % heads == 0 and (d // heads) % 2 == 0
        self.token_embd = nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(Block(d, heads, ff) for _ in range(layers))
        self.output_norm = RMSNorm(d)
        self.output = nn.Linear(d, vocab, bias=False)
        self.register_buffer("mask", torch.ones(max_len, max_len, dtype=torch.bool).triu(1), persistent=False)
        nn.init.normal_(self.token_embd.weight, std=1.0)
        for name, p in self.named_parameters():
            if p.dim() == 2 and name != "token_embd.weight":
                nn.init.normal_(p, std=1 / math.sqrt(p.shape[1]))
                if name.endswith(("attn_output.weight", "ffn_down.weight")):
                    p.data.mul_(1 / math.sqrt(2 * layers))

    def forward(self, tokens):
        x = self.token_embd(tokens)
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.output(self.output_norm(x))

    def gguf_tensors(self):
        """(gguf name, float32 tensor) in GGUF file order. A Linear weight [out, in] has ggml ne = [in, out], same bytes."""
        yield "token_embd.weight", self.token_embd.weight
        yield "output_norm.weight", self.output_norm.weight
        yield "output.weight", self.output.weight
        for i, blk in enumerate(self.blocks):
            for n in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"):
                yield f"blk.{i}.{n}.weight", getattr(blk, n).weight


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
