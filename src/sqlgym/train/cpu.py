"""TRL 1.15 on a machine without a GPU.

GRPOTrainer computes per-token log-probabilities through ``trl.kernels.ChunkedLogProbFunction``, a
Triton kernel: without Triton (the CPU wheel of torch has none) the trainer fails with
``'NoneType' object has no attribute 'apply'``, and with it the kernel cannot run on CPU tensors.
:func:`patch_trl_for_cpu` swaps in the same computation in plain torch (autograd does the backward).
"""

from __future__ import annotations

TOKEN_CHUNK = 1024


class TorchChunkedLogProb:
    """Drop-in for ``ChunkedLogProbFunction.apply``: same arguments, same five outputs, plain torch."""

    @staticmethod
    def apply(hidden, weight, bias, targets, temperature, chunk_size, softcap=None, logit_scale=1.0,
              outputs=("entropy",)):
        import torch

        parts: dict[str, list] = {k: [] for k in ("log_probs", "entropy", "log_sum_sq_probs", "mean_logits", "is_top1")}
        for s in range(0, hidden.shape[0], TOKEN_CHUNK):
            h, t = hidden[s:s + TOKEN_CHUNK], targets[s:s + TOKEN_CHUNK]
            z = torch.nn.functional.linear(h, weight, bias).float() * logit_scale
            if softcap:
                z = softcap * torch.tanh(z / softcap)
            z = z / temperature
            logp = torch.log_softmax(z, dim=-1)
            parts["log_probs"].append(logp.gather(-1, t[:, None]).squeeze(-1))
            if "entropy" in outputs:
                parts["entropy"].append(-(logp.exp() * logp).sum(-1))
            if "log_sum_sq_probs" in outputs:
                parts["log_sum_sq_probs"].append(torch.logsumexp(2 * logp, -1).detach())
            if "mean_logits" in outputs:
                parts["mean_logits"].append(z.mean(-1).detach())
            if "is_top1" in outputs:
                parts["is_top1"].append(z.argmax(-1) == t)
        wanted = {"log_probs", *outputs}
        empty = hidden.new_zeros((0,), dtype=torch.float32)
        return tuple((torch.cat(v) if v else empty) if k in wanted else None for k, v in parts.items())


def patch_trl_for_cpu() -> None:
    """Use :class:`TorchChunkedLogProb` in TRL's fused LM head (idempotent; call before training on a CPU)."""
    import trl.trainer.utils as tu

    if getattr(tu, "_ChunkedLogProbFunction", None) is not TorchChunkedLogProb:
        # monkeypatch: a plain-torch stand-in, duck-typed to the Triton autograd Function's ``apply``
        tu._ChunkedLogProbFunction = TorchChunkedLogProb
