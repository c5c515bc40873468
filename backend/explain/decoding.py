"""Claim-frame decoding: a language model chooses among true claims and cannot write anything else.

At every sentence the model may only continue with one of the sentences ``claims.claim_options``
lists (true claims with fact placeholders and a small choice of connecting words), so a false
comparison, a number next to the wrong measure or an absent class cannot be written at all. The
plan (``STAGES``): the composition claim first; then one claim on where the model is unsure (least
confident classes, the part of the map, the low-confidence share); then one on why (a physical reason
or the cloud cover); then any other kinds, each at most once, up to ``MAX_MIDDLE`` sentences; then a
field check, which ends the explanation. A stage the facts cannot fill is skipped. The model decides
which claims to state, in which order, with which wording, and where to send the analyst among the
places the facts single out.

Decoding runs on llama.cpp's low-level calls as a token mask over the options (a finite set of
strings) with jump-forward: where every option left agrees on the next characters, those tokens are
appended without sampling and evaluated in one batch; the model is sampled only where options
diverge, and then only among tokens that keep the text a prefix of some option. A GBNF grammar over
the same options would also work, but llama.cpp checks it against the whole vocabulary at every
token, including the forced ones, and samples every token one by one (slower on CPU, see
``constraint.py``).
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

import numpy as np

from .claims import Claim, claim_options
from .facts import Facts

STAGES = (("composition",), ("least_confident", "region", "low_confidence"), ("reason", "cloud"))
MAX_MIDDLE = 6
_BREAK = " .,;:()"


@dataclass
class Decoded:
    """The chosen claims (in order), the text with placeholders, token counts and seconds."""

    claims: list[Claim]
    text: str
    prompt_tokens: int
    generated_tokens: int
    sampled_tokens: int
    seconds: float


class TokenTexts:
    """A model's vocabulary as text: token id -> text, and text -> ids (plain tokens only)."""

    def __init__(self, llama) -> None:
        import llama_cpp

        vocab = llama._model.vocab
        self.by_text: dict[str, list[int]] = {}
        self.text: dict[int, str] = {}
        for token in range(llama.n_vocab()):
            if llama_cpp.llama_vocab_is_eog(vocab, token) or llama_cpp.llama_vocab_is_control(vocab, token):
                continue
            text = llama.detokenize([token]).decode("utf-8", errors="replace")
            if not text or "\ufffd" in text or "\n" in text:
                continue
            self.text[token] = text
            self.by_text.setdefault(text, []).append(token)
        self.longest = max(len(t) for t in self.by_text)

    def prefixes(self, rest: str) -> list[int]:
        """Ids of the tokens whose text is a non-empty prefix of ``rest``."""
        found = []
        for length in range(1, min(len(rest), self.longest) + 1):
            found += self.by_text.get(rest[:length], [])
        return found

    def encode(self, llama, text: str) -> list[int]:
        """Tokens spelling exactly ``text``: the model's tokenizer when it round-trips, else longest match."""
        tokens = llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if "".join(self.text.get(t, "\0") for t in tokens) == text:
            return tokens
        tokens, position = [], 0
        while position < len(text):
            for length in range(min(self.longest, len(text) - position), 0, -1):
                ids = self.by_text.get(text[position : position + length])
                if ids:
                    tokens.append(ids[0])
                    position += length
                    break
            else:
                raise ValueError(f"no token spells {text[position:]!r}")
        return tokens


def plan_options(facts: Facts, chosen: list[Claim]) -> list[Claim]:
    """The claims that may come next after ``chosen`` (empty when the explanation is complete)."""
    options = claim_options(facts)
    used = {claim.kind for claim in chosen}
    if "field_check" in used:
        return []
    if "reason" in options:
        options["reason"] = _related_reasons(options["reason"], chosen)
    for stage in STAGES:
        available = [kind for kind in stage if kind in options]
        if available and not used & set(stage):
            return [claim for kind in available for claim in options[kind]]
    middle = [] if len(chosen) > MAX_MIDDLE else [k for k in options if k not in used and k != "field_check"]
    return [claim for kind in middle for claim in options[kind]] + options["field_check"]


def _related_reasons(reasons: list[Claim], chosen: list[Claim]) -> list[Claim]:
    """The reasons about classes an earlier claim (other than the composition) named, else all of them:
    after "least sure about crops", a reason about crops."""
    named = {name for claim in chosen if claim.kind != "composition" for name in claim.classes}
    return [r for r in reasons if named & set(r.classes)] or reasons


class FrameDecoder:
    """Runs claim-frame decoding on a loaded ``llama_cpp.Llama`` (one explanation at a time)."""

    def __init__(self, llama) -> None:
        self.llama = llama
        self.tokens = TokenTexts(llama)

    def _logits(self) -> np.ndarray:
        import llama_cpp

        pointer = llama_cpp.llama_get_logits_ith(self.llama._ctx.ctx, -1)
        return np.ctypeslib.as_array(pointer, shape=(self.llama.n_vocab(),)).copy()

    def _start(self, prompt: str) -> int:
        """Evaluate ``prompt``, reusing the cached prefix of the previous call; returns its token count."""
        llama = self.llama
        tokens = llama.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        cached = llama._input_ids.tolist()
        keep = 0
        for a, b in zip(cached, tokens[:-1], strict=False):
            if a != b:
                break
            keep += 1
        if keep < llama.n_tokens and not llama._ctx.kv_cache_seq_rm(-1, keep, -1):
            keep = 0  # this cache cannot drop a tail (e.g. sliding-window attention): start over
        llama.n_tokens = keep
        llama.eval(tokens[keep:])
        return len(tokens)

    def decode(self, prompt: str, facts: Facts, *, temperature: float, seed: int) -> Decoded:
        """Write an explanation after ``prompt`` by choosing claims (see the module docstring).

        ``temperature`` 0 is greedy; ``seed`` fixes the sampling. Each sentence after the first starts
        with a space. Tokens forced after the last choice are never evaluated: nothing follows them.
        """
        start = time.perf_counter()
        rng = np.random.default_rng(seed)
        prompt_tokens = self._start(prompt)
        chosen: list[Claim] = []
        text = ""
        generated = sampled = 0
        pending: list[int] = []
        while True:
            options = plan_options(facts, chosen)
            if not options:
                break
            lead = " " if chosen else ""
            alive = [(claim, lead + claim.text) for claim in options]
            partial = ""
            while True:
                alive = [(c, s) for c, s in alive if s.startswith(partial)]
                finished = [c for c, s in alive if s == partial]
                if finished:
                    chosen.append(finished[0])
                    break
                rests = [s[len(partial) :] for _, s in alive]
                forced = _forced(rests)
                if forced:
                    new = self.tokens.encode(self.llama, forced)
                    pending += new
                    generated += len(new)
                    partial += forced
                    continue
                if pending:
                    self.llama.eval(pending)
                    pending = []
                token = self._sample(rests, temperature, rng)
                pending = [token]
                generated += 1
                sampled += 1
                partial += self.tokens.text[token]
            text += partial
        return Decoded(chosen, text, prompt_tokens, generated, sampled, time.perf_counter() - start)

    def _sample(self, rests: list[str], temperature: float, rng: np.random.Generator) -> int:
        allowed = sorted({t for rest in rests for t in self.tokens.prefixes(rest)})
        logits = self._logits()[allowed].astype(np.float64)
        if temperature <= 0:
            return allowed[int(np.argmax(logits))]
        weights = np.exp((logits - logits.max()) / temperature)
        return allowed[int(rng.choice(len(allowed), p=weights / weights.sum()))]


def _forced(rests: list[str]) -> str:
    """The text every remaining option continues with, cut so that the choice that follows starts at a
    word boundary (a space or punctuation), never in the middle of a word."""
    if len(rests) == 1:
        return rests[0]
    common = os.path.commonprefix(rests)
    if common and all(len(r) > len(common) and r[len(common)] in _BREAK for r in rests):
        return common
    cut = max(common.rfind(" "), 0)
    return re.sub(r" +$", "", common[:cut]) if cut else ""
