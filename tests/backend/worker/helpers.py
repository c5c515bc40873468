"""A worker process driven line by line, for protocol tests (the plugin's client is tested separately)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from landfuse.common.protocol import DEBUG_OPS_ENV
from tests.paths import REPO_ROOT

WORKER_ARGV = [sys.executable, "-m", "landfuse.backend", "worker", "--heartbeat", "0.2", "--no-log-file"]


class RawWorker:
    """``python -m landfuse.backend worker`` with pipes; ``events`` receives every stdout line parsed."""

    def __init__(self, debug_ops: bool = True, cwd: Path = REPO_ROOT) -> None:
        env = dict(os.environ)
        if debug_ops:
            env[DEBUG_OPS_ENV] = "1"
        self.process = subprocess.Popen(
            WORKER_ARGV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
        )
        self.events: queue.Queue = queue.Queue()
        self.raw_lines: list[bytes] = []
        self.backlog: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.next_event(lambda e: e["event"] == "hello", timeout=60)

    def _read(self) -> None:
        for line in self.process.stdout:
            self.raw_lines.append(line)
            self.events.put(json.loads(line))  # a line that is not JSON fails the reading thread: caught by tests
        self.events.put(None)

    def send_line(self, line: bytes) -> None:
        self.process.stdin.write(line if line.endswith(b"\n") else line + b"\n")
        self.process.stdin.flush()

    def send(self, request_id: str, op: str, **params) -> None:
        self.send_line(json.dumps({"id": request_id, "op": op, "params": params}).encode())

    def next_event(self, accept, timeout: float = 30) -> dict:
        """The first not yet taken event for which ``accept(event)`` is true (others stay for later calls)."""
        for index, event in enumerate(self.backlog):
            if accept(event):
                return self.backlog.pop(index)
        deadline = time.monotonic() + timeout
        while True:
            event = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event is None:
                raise EOFError(f"the worker exited with status {self.process.wait()}")
            if accept(event):
                return event
            if event["event"] != "heartbeat":
                self.backlog.append(event)

    def final(self, request_id: str, timeout: float = 30) -> dict:
        """The result or error event ending request ``request_id``."""
        return self.next_event(lambda e: e["id"] == request_id and e["event"] in ("result", "error"), timeout)

    def request(self, request_id: str, op: str, **params) -> dict:
        self.send(request_id, op, **params)
        return self.final(request_id)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                return self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()


def write_tiny_llama(path: Path, seed: int = 0) -> Path:
    """A random-weight llama GGUF (2 layers, width 64, byte-level vocabulary): loads and generates in well
    under a second, so protocol tests exercise the language-model path without the real model's cost.
    Its text is noise, so explanations fall back to the grounded template."""
    import gguf
    import numpy as np

    rng = np.random.default_rng(seed)
    width, layers, heads, hidden = 64, 2, 4, 128
    tokens = ["<unk>", "<s>", "</s>", *(f"<0x{byte:02X}>" for byte in range(256)), "▁", "▁the", "e", "t", "a"]
    kinds = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    kinds += [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * 5
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_context_length(2048)
    writer.add_embedding_length(width)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(hidden)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(width // heads)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * len(tokens))
    writer.add_token_types(kinds)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)

    def weights(name: str, *shape: int) -> None:
        writer.add_tensor(name, (0.02 * rng.standard_normal(shape)).astype(np.float32))

    weights("token_embd.weight", len(tokens), width)
    weights("output.weight", len(tokens), width)
    writer.add_tensor("output_norm.weight", np.ones(width, np.float32))
    for layer in range(layers):
        for norm in ("attn_norm", "ffn_norm"):
            writer.add_tensor(f"blk.{layer}.{norm}.weight", np.ones(width, np.float32))
        for name in ("attn_q", "attn_k", "attn_v", "attn_output"):
            weights(f"blk.{layer}.{name}.weight", width, width)
        weights(f"blk.{layer}.ffn_gate.weight", hidden, width)
        weights(f"blk.{layer}.ffn_up.weight", hidden, width)
        weights(f"blk.{layer}.ffn_down.weight", width, hidden)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
