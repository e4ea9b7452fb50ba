"""A MaskablePPO policy for SQLIndexDiscrete-v0 that scores every candidate with the same small network.

A flat MLP over the observation learns "candidate slot 7 is good", which holds for the scenarios it
trained on and nowhere else: slot order, the number of real candidates and the schema all change from
one database to the next. ``CandidatePolicy`` reads the observation as what it is, a set of candidates,
a set of drop slots and a few global numbers, and gives

- each candidate's logit from one shared MLP over (its features, the global features, the mean of the
  valid candidates' features),
- each drop slot's logit from another shared MLP over (its features, the global features),
- stop's logit and the value from MLPs over the global features and the pooled candidate and slot
  embeddings,

so the policy is the same function of a candidate whichever slot it sits in, and carries over to
databases whose candidates it has never seen. sb3-contrib's masking, PPO's loss and SB3's saving and
loading are untouched: this is only the network (``MaskablePPO(CandidatePolicy, env, policy_kwargs=
{"k": 64, "d": 8})``).
"""

from __future__ import annotations

from typing import Any

import torch as th
from sb3_contrib.common.maskable.policies import MaskableActorCriticPolicy
from torch import nn

from sqlgym.envs.index_discrete import CANDIDATE_FEATURES, D_SLOTS, GLOBAL_FEATURES, K_CANDIDATES, SLOT_FEATURES

NC, NS, NG = len(CANDIDATE_FEATURES), len(SLOT_FEATURES), len(GLOBAL_FEATURES)
VALID = CANDIDATE_FEATURES.index("valid")
EXISTS = SLOT_FEATURES.index("exists")


def _mlp(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, n_out))


def _masked_mean(x: th.Tensor, weight: th.Tensor) -> th.Tensor:
    """Mean over dim 1 of ``x`` (B, N, F) weighted by ``weight`` (B, N); zeros where nothing counts."""
    w = weight.unsqueeze(-1)
    return (x * w).sum(1) / w.sum(1).clamp(min=1.0)


class CandidateExtractor(nn.Module):
    """Observation -> (action logits, value latent); the ``mlp_extractor`` of ``CandidatePolicy``."""

    def __init__(self, k: int, d: int, hidden: int):
        super().__init__()
        self.k, self.d = k, d
        self.latent_dim_pi = k + d + 1  # the logits themselves: the policy's action_net is the identity
        self.latent_dim_vf = hidden
        self.candidate = _mlp(2 * NC + NG, hidden, hidden)
        self.candidate_logit = nn.Linear(hidden, 1)
        self.slot = _mlp(NS + NG, hidden // 2, hidden // 2)
        self.slot_logit = nn.Linear(hidden // 2, 1)
        self.stop = _mlp(NG + hidden + hidden // 2, hidden, 1)
        self.critic = _mlp(NG + 2 * hidden + hidden // 2, hidden, hidden)

    def split(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        b = obs.shape[0]
        cand = obs[:, : self.k * NC].reshape(b, self.k, NC)
        slots = obs[:, self.k * NC: self.k * NC + self.d * NS].reshape(b, self.d, NS)
        return cand, slots, obs[:, -NG:]

    def _embed(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        cand, slots, g = self.split(obs)
        valid, exists = cand[..., VALID], slots[..., EXISTS]
        context = _masked_mean(cand, valid)
        h = self.candidate(th.cat([cand, g.unsqueeze(1).expand(-1, self.k, -1),
                                   context.unsqueeze(1).expand(-1, self.k, -1)], dim=-1))
        s = self.slot(th.cat([slots, g.unsqueeze(1).expand(-1, self.d, -1)], dim=-1))
        return h, s, g, _masked_mean(h, valid), _masked_mean(s, exists)

    def forward_actor(self, obs: th.Tensor) -> th.Tensor:
        h, s, g, h_mean, s_mean = self._embed(obs)
        stop = self.stop(th.cat([g, h_mean, s_mean], dim=-1))
        return th.cat([self.candidate_logit(h).squeeze(-1), self.slot_logit(s).squeeze(-1), stop], dim=-1)

    def forward_critic(self, obs: th.Tensor) -> th.Tensor:
        h, s, g, h_mean, s_mean = self._embed(obs)
        h_max = h.max(dim=1).values
        return self.critic(th.cat([g, h_mean, h_max, s_mean], dim=-1))

    def forward(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        return self.forward_actor(obs), self.forward_critic(obs)


class CandidatePolicy(MaskableActorCriticPolicy):
    """MaskablePPO's actor-critic with ``CandidateExtractor`` as its network (see the module docstring)."""

    def __init__(self, *args: Any, k: int = K_CANDIDATES, d: int = D_SLOTS, hidden: int = 64, **kwargs: Any):
        self.k, self.d, self.hidden = k, d, hidden
        super().__init__(*args, **kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "k": self.k, "d": self.d, "hidden": self.hidden}

    def _build_mlp_extractor(self) -> None:
        n = self.k * NC + self.d * NS + NG
        if self.features_dim != n:
            raise ValueError(f"CandidatePolicy(k={self.k}, d={self.d}) reads {n} features; the env gives "
                             f"{self.features_dim} (pass the env's max_candidates and drop_slots as k and d)")
        self.mlp_extractor = CandidateExtractor(self.k, self.d, self.hidden)

    def _build(self, lr_schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()  # the extractor's actor output is the logits
        for head in (self.mlp_extractor.candidate_logit, self.mlp_extractor.slot_logit, self.mlp_extractor.stop[-1]):
            nn.init.orthogonal_(head.weight, gain=0.01)  # near-uniform first policy, as SB3 does for action_net
            nn.init.zeros_(head.bias)
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)
