"""LLM policies for the eval harness, with the prompt and plan format used in training.

    make_llm_policy("hf:embedded")                       # the embedded SmolLM2-135M-Instruct, off the shelf
    make_llm_policy("hf:runs/grpo")                      # a directory written by python -m sqlgym.train (base + adapter)
    make_llm_policy("hf:embedded", adapter="runs/grpo")  # the same, naming the adapter separately
    make_llm_policy("openai:http://localhost:8000/v1")   # a vLLM / Ollama / any OpenAI-compatible server (urllib)

``plan`` mode (the default): at its first ``act`` the policy builds the chat prompt from the reset
observation (the adapter's ``plan`` prompt), asks the model once for a JSON list of actions, and
plays them, then ends the episode as training's replay does (the adapter's ``finish_action``:
``submit_report`` for SQLIndex-v0; nothing for Text2SQL-v0, where a plan that neither answers nor
abstains is wrong). Text that is not a plan is an empty plan.
``tools`` mode (a directory trained with ``--mode tools`` says so in ``sqlgym_model.json``): one
``<tool_call>`` per step, the env's observation going back as the tool's answer, as in training;
a turn without a tool call ends the episode. Decoding is greedy, so results repeat.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from functools import lru_cache
from typing import Any

from sqlgym.errors import ConfigError
from sqlgym.integrations.base import get_adapter, tool_names
from sqlgym.policies.base import Policy, action

PREFIXES = ("hf:", "openai:")
_TOOL_CALL = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.S)


def parse_tool_call(text: str) -> tuple[str, dict] | None:
    """The first ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>`` in the text, or None."""
    for m in _TOOL_CALL.finditer(text or ""):
        try:
            call = json.loads(m.group(1))
        except json.JSONDecodeError:
            continue
        if isinstance(call, dict) and isinstance(call.get("name"), str):
            args = call.get("arguments", {})
            return call["name"], args if isinstance(args, dict) else {}
    return None


def stdout_is_terminal() -> bool:
    isatty = getattr(sys.stdout, "isatty", None)
    return bool(isatty and isatty())


class PlainProgress:
    """Progress as plain lines on stderr (``policy hf:embedded: 40/94 episodes, 120 s``), for logs and pipes,
    where a rich progress bar is hidden: a line when another tenth is done, at most every ``min_interval``
    seconds, and at least every ``max_interval`` seconds while updates come; once anything was printed, a
    last line at the end. A run that ends within ``min_interval`` prints nothing. Off when stdout is a
    terminal, unless ``enabled``."""

    min_interval = 5.0
    max_interval = 30.0

    def __init__(self, label: str, total: int, unit: str = "episodes", enabled: bool | None = None):
        self.label, self.total, self.unit = label, total, unit
        self.enabled = (not stdout_is_terminal()) if enabled is None else enabled
        self.t0 = self.last = time.monotonic()
        self.done, self.tenth, self.printed, self.finished = 0, 0, False, False

    def advance(self, k: int = 1) -> None:
        self.update(self.done + k)

    def update(self, done: int) -> None:
        self.done = done
        if not self.enabled or self.total <= 0 or self.finished:
            return
        now = time.monotonic()
        tenth = min(done, self.total) * 10 // self.total
        due = (tenth > self.tenth and now - self.last >= self.min_interval) or now - self.last >= self.max_interval
        if due or (done >= self.total and self.printed):
            print(f"{self.label}: {done}/{self.total} {self.unit}, {now - self.t0:.0f} s", file=sys.stderr, flush=True)
            self.last, self.tenth, self.printed = now, tenth, True
            self.finished = done >= self.total


class HFGenerator:
    """Greedy chat completion with a transformers model (batched, left-padded). Many prompts at once
    report their progress as :class:`PlainProgress` lines when stdout is not a terminal."""

    def __init__(self, model, tokenizer, max_new_tokens: int = 256, batch_size: int = 8, label: str = "model"):
        self.model, self.tokenizer = model, tokenizer
        self.max_new_tokens, self.batch_size, self.label = max_new_tokens, batch_size, label

    def __call__(self, prompts: list[list[dict[str, str]]], tools: list | None = None) -> list[str]:
        import torch

        tok, out = self.tokenizer, []
        report = PlainProgress(self.label, len(prompts), "answers generated") if len(prompts) > self.batch_size else None
        tok.padding_side = "left"
        was_training = self.model.training
        self.model.eval()
        for i in range(0, len(prompts), self.batch_size):
            texts = [tok.apply_chat_template(p, tools=tools, add_generation_prompt=True, tokenize=False)
                     for p in prompts[i:i + self.batch_size]]
            enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.model.device)
            with torch.no_grad():
                ids = self.model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False,
                                          pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
            out += tok.batch_decode(ids[:, enc["input_ids"].shape[1]:], skip_special_tokens=tools is None)
            if report:
                report.update(len(out))
        if was_training:
            self.model.train()
        return out


class OpenAIGenerator:
    """Chat completions from an OpenAI-compatible server over plain HTTP (no client library)."""

    def __init__(self, base_url: str, model: str | None = None, max_tokens: int = 512, timeout: float = 120.0,
                 label: str = "model"):
        self.url = base_url.rstrip("/") + ("" if base_url.rstrip("/").endswith("/v1") else "/v1")
        self.model, self.max_tokens, self.timeout, self.label = model, max_tokens, timeout, label

    def _post(self, path: str, body: dict | None) -> dict:
        headers = {"Content-Type": "application/json"}
        if os.environ.get("OPENAI_API_KEY"):
            headers["Authorization"] = "Bearer " + os.environ["OPENAI_API_KEY"]
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read().decode())
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as e:
            raise ConfigError(f"cannot reach the model server at {self.url}{path}: {e}") from None

    def __call__(self, prompts: list[list[dict[str, str]]], tools: list | None = None) -> list[str]:
        """Text per prompt; with ``tools`` (callables), a tool call comes back as a ``<tool_call>`` block."""
        if self.model is None:  # the server's first model, as vLLM and Ollama list it
            self.model = self._post("/models", None)["data"][0]["id"]
        body = {"model": self.model, "temperature": 0, "max_tokens": self.max_tokens}
        if tools:
            from transformers.utils import get_json_schema

            body["tools"] = [get_json_schema(t) for t in tools]
        out: list[str] = []
        report = PlainProgress(self.label, len(prompts), "answers generated") if len(prompts) > 1 else None
        for p in prompts:
            if report:
                report.update(len(out))
            msg = self._post("/chat/completions", {**body, "messages": [_openai_message(m) for m in p]})["choices"][0]["message"]
            text = msg.get("content") or ""
            for call in msg.get("tool_calls") or []:
                f = call.get("function", {})
                args = f.get("arguments", "{}")
                args = args if isinstance(args, str) else json.dumps(args)
                text += f'<tool_call>\n{{"name": {json.dumps(f.get("name"))}, "arguments": {args}}}\n</tool_call>'
            out.append(text)
        if report:
            report.update(len(out))
        return out


def _openai_message(m: dict) -> dict:
    """Tool calls in OpenAI's wire format (arguments as a JSON string, an id to answer)."""
    if m.get("tool_calls"):
        calls = [{"id": f"call_{i}", "type": "function", "function": {"name": c["function"]["name"],
                  "arguments": json.dumps(c["function"]["arguments"])}} for i, c in enumerate(m["tool_calls"])]
        return {"role": "assistant", "content": m.get("content") or "", "tool_calls": calls}
    if m.get("role") == "tool":
        return {"role": "tool", "tool_call_id": "call_0", "content": m["content"]}
    return m


class LLMPolicy(Policy):
    """Asks a generator for a plan at the first step, then plays it (see the module docstring)."""

    _last_tool: str  # tools mode: the tool the model called last, named in the next tool message

    def __init__(self, generator, name: str = "llm", env_id: str = "SQLIndex-v0", mode: str = "plan"):
        if mode not in ("plan", "tools"):
            raise ConfigError(f"an LLM policy's mode is plan or tools, not {mode!r}")
        self.generator, self.name, self.mode = generator, name, mode
        self.adapter = get_adapter(env_id)
        self.cache: dict[str, str] = {}  # prompt text -> completion (filled in batches by ``prefill``)
        self.last_completion: str | None = None
        self.last_error: str | None = None

    def prompt(self, observation: str, scenario: Any) -> list[dict[str, str]]:
        return self.adapter.prompt(observation, scenario, self.mode)

    def prefill(self, prompts: list[list[dict[str, str]]]) -> None:
        """Generate plan-mode completions for many prompts at once (a batch is much faster than one by one)."""
        if self.mode != "plan":
            return
        todo = [p for p in prompts if json.dumps(p) not in self.cache]
        for p, text in zip(todo, self.generator(todo)):
            self.cache[json.dumps(p)] = text

    def reset(self, scenario, seed: int | None = None) -> None:
        super().reset(scenario, seed)
        self._started = self._stopped = False

    def act(self, observation: str, info: dict) -> str:
        if self.mode == "tools":
            return self._act_tools(observation)
        if not self._started:
            self._started = True
            p = self.prompt(observation, self.scenario)
            key = json.dumps(p)
            if key not in self.cache:
                self.prefill([p])
            from sqlgym.integrations.prompts import parse_plan

            self.last_completion = self.cache[key]
            actions, self.last_error = parse_plan(self.last_completion)
            self.plan = [a if isinstance(a, str) else json.dumps(a, default=str) for a in (actions or [])]
        return self.plan.pop(0) if self.plan else self._finish()

    def _finish(self) -> str:
        """What training's replay plays when the model stops: the adapter's ``finish_action``, or (None)
        an action the env refuses, until it truncates the episode as unfinished, that is wrong."""
        fin = self.adapter.finish_action
        return json.dumps(fin) if fin else action("end", reason="the model gave no further action")

    def _act_tools(self, observation: str) -> str:
        if self._stopped:  # the model ended its turn without a tool call: the episode is over for it
            return self._finish()
        if not self._started:
            self._started = True
            self.messages: list[dict[str, Any]] = self.prompt(observation, self.scenario)
            tools_class = self.adapter.tool_class
            if tools_class is None:
                raise ConfigError(f"{self.adapter.env_id} has no tools-mode environment class; use mode plan")
            env = tools_class()
            self.tools = [getattr(env, n) for n in tool_names(type(env))]
        else:
            self.messages.append({"role": "tool", "name": self._last_tool, "content": observation})
        text = self.generator([self.messages], tools=self.tools)[0]
        self.last_completion, self.last_error = text, None
        call = parse_tool_call(text)
        if call is None:
            self.last_error = "a turn without a tool call ended the episode"
            self._stopped = True
            return self._finish()
        name, args = call
        self._last_tool = name
        self.messages.append({"role": "assistant", "content": "",
                              "tool_calls": [{"type": "function", "function": {"name": name, "arguments": args}}]})
        return json.dumps({"action_type": name, "payload": args}, default=str)


def make_llm_policy(spec: str, adapter: str | None = None, env_id: str = "SQLIndex-v0",
                    max_new_tokens: int = 256, mode: str | None = None) -> LLMPolicy:
    """``hf:embedded``, ``hf:<model dir | .gguf | hub id>`` (``adapter``: a LoRA directory), or ``openai:<base_url>``.

    ``mode`` defaults to what a training output directory's ``sqlgym_model.json`` says, else ``plan``.
    Models are loaded once per process and shared by every policy made with the same spec.
    """
    check_llm_spec(spec, adapter)  # before anything loads
    if spec.startswith("openai:"):
        url = spec[len("openai:"):]
        return LLMPolicy(OpenAIGenerator(url, max_tokens=max_new_tokens, label=f"policy {spec}"), name=spec,
                         env_id=env_id, mode=mode or "plan")
    model, tok = _hf_model(spec[3:] or "embedded", adapter)
    name = spec + (f"+{adapter}" if adapter else "")
    mode = mode or _trained_mode(adapter or spec[3:])
    return LLMPolicy(HFGenerator(model, tok, max_new_tokens, label=f"policy {name}"), name=name, env_id=env_id,
                     mode=mode)


def check_llm_spec(spec: str, adapter: str | None = None) -> None:
    """Raise the ConfigError :func:`make_llm_policy` would for a bad spec, without loading or importing a
    model: the prefix, the server URL, the model name (``sqlgym.models.model_source``: a missing local
    directory is an error, not a trip to the hub) and the adapter directory."""
    if spec.startswith("openai:"):
        url = spec[len("openai:"):]
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"openai: needs a base URL such as openai:http://localhost:8000/v1, not {url!r}")
        return
    if not spec.startswith("hf:"):
        raise ConfigError(f"an LLM policy is hf:<model> or openai:<base_url>, not {spec!r}")
    from sqlgym.models import _looks_like_hub_id, model_source

    model_source(spec[3:] or "embedded")
    if adapter is None:
        return
    path = os.path.expanduser(adapter)
    if os.path.exists(path) or not _looks_like_hub_id(adapter):
        if not os.path.isdir(path):
            raise ConfigError(f"--adapter {adapter!r}: no such directory; give a LoRA adapter directory")
        if not os.path.isfile(os.path.join(path, "adapter_config.json")):
            raise ConfigError(f"--adapter {adapter!r} is not a LoRA adapter directory (no adapter_config.json there)")


def needs_hub(spec: str) -> bool:
    """Whether an ``hf:`` policy may use the Hugging Face hub (its model is a hub id); the others never do."""
    if not spec.startswith("hf:"):
        return False
    from sqlgym.models import needs_hub as model_needs_hub

    return model_needs_hub(spec[3:] or "embedded")


def _trained_mode(path: str) -> str:
    card = os.path.join(path, "sqlgym_model.json")
    if os.path.isfile(card):
        with open(card) as f:
            return json.load(f).get("mode", "plan")
    return "plan"


@lru_cache(maxsize=2)
def _hf_model(name: str, adapter: str | None):
    from sqlgym.models import load_model

    model, tok = load_model(name, backend="peft")
    if adapter:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter)
    return model, tok
