"""Static checks of docker/*.Dockerfile and .dockerignore: images build and run non-root."""

from __future__ import annotations

import glob
import importlib.util
import json
import re
import shlex
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = ROOT / "docker"
DOCKERFILES = sorted(DOCKER_DIR.glob("*.Dockerfile"))
CPU_STAGES = (
    "alignment",
    "media",
    "separation",
    "packaging",
    "jobs",
    "translation",
    "render",
    "faces",
    "quality",
)
GPU_STAGES = ("asr", "diarization", "tts")
# Images that are not named after their service: Dockerfile stem -> service.
SERVICE_OF = {"spleeter": "separation"}
EXPECTED = {
    "base.Dockerfile",
    "cuda-base.Dockerfile",
    "spleeter.Dockerfile",
    *(f"{s}.Dockerfile" for s in CPU_STAGES + GPU_STAGES),
}
BASES = {"base", "cuda-base"}
# What the bases' venv already holds; any other dubset-* dependency an image builds itself.
IN_THE_BASE = {"dubset-common", "dubset-protos"}
TORCH_FAMILY = {"torch", "torchaudio", "torchcodec"}
ROOT_USERS = {"root", "0"}
SOURCE_SUFFIXES = {".py", ".pyi", ".toml", ".typed", ".proto", ".txt", ".cfg"}
CACHE_PARTS = {"__pycache__", "build", "dist"}


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    args: str
    line: int


@dataclass
class Stage:
    """A FROM and the instructions under it."""

    image: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    """A parsed Dockerfile: global ARG defaults and the stages in order."""

    path: Path
    global_args: dict[str, str]
    stages: list[Stage]

    @property
    def final(self) -> Stage:
        return self.stages[-1]


def parse_instructions(text: str) -> list[Instruction]:
    """Split Dockerfile text into instructions (comments dropped, `\\` continuations joined)."""
    out: list[Instruction] = []
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comment lines may sit inside a continuation too
        if not buf:
            start = number
        if stripped.endswith("\\"):
            buf.append(stripped[:-1].strip())
            continue
        buf.append(stripped)
        keyword, _, args = " ".join(buf).partition(" ")
        out.append(Instruction(keyword.upper(), args.strip(), start))
        buf = []
    if buf:
        raise ValueError(f"dangling line continuation at line {start}")
    return out


def _expand(value: str, args: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        if name not in args:
            raise ValueError(f"${name} has no default ARG value")
        return args[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, value)


def _arg(args: str) -> tuple[str, str | None]:
    name, eq, default = args.partition("=")
    return name.strip(), (default.strip().strip('"') if eq else None)


def parse_dockerfile(path: Path) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for ins in parse_instructions(path.read_text()):
        if ins.keyword == "ARG" and not stages:
            name, default = _arg(ins.args)
            if default is not None:
                global_args[name] = default
        elif ins.keyword == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--platform")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            stages.append(Stage(_expand(words[0], global_args), name))
        elif not stages:
            raise ValueError(f"{path.name}:{ins.line}: {ins.keyword} before the first FROM")
        else:
            stages[-1].instructions.append(ins)
    return Dockerfile(path, global_args, stages)


def exec_form(ins: Instruction) -> list[str] | None:
    """The JSON array of an exec-form ENTRYPOINT/CMD/RUN, or None for shell form."""
    if not ins.args.startswith("["):
        return None
    value = json.loads(ins.args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), ins
    return value


def copy_parts(ins: Instruction) -> tuple[dict[str, str], list[str], str]:
    """Flags, sources and destination of a COPY/ADD."""
    words = shlex.split(ins.args)
    flags: dict[str, str] = {}
    while words and words[0].startswith("--"):
        key, _, value = words.pop(0)[2:].partition("=")
        flags[key] = value
    paths = json.loads(" ".join(words)) if words and words[0].startswith("[") else words
    assert len(paths) >= 2, f"line {ins.line}: {ins.keyword} needs a source and a destination"
    return flags, paths[:-1], paths[-1]


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif c == "*":
            out, i = out + "[^/]*", i + 1
        elif c == "?":
            out, i = out + "[^/]", i + 1
        elif c == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            out, i = out + "[" + ("^" + body[1:] if body.startswith("!") else body) + "]", end + 1
        else:
            out, i = out + re.escape(c), i + 1
    return re.compile(out)


@cache
def dockerignore_rules() -> tuple[tuple[bool, re.Pattern[str]], ...]:
    """(negated, regex) per .dockerignore line, in order (the last matching rule wins)."""
    path = ROOT / ".dockerignore"
    rules = []
    for raw in path.read_text().splitlines() if path.exists() else []:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = line.lstrip("!").strip().strip("/")
        rules.append((negated, _pattern_regex(pattern)))
    return tuple(rules)


def is_ignored(relpath: str) -> bool:
    """Whether Docker leaves relpath (or a folder above it) out of the build context."""
    parts = relpath.strip("/").split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for negated, rx in dockerignore_rules():
        if any(rx.fullmatch(p) for p in prefixes):
            ignored = not negated
    return ignored


def _parsed() -> list[Dockerfile]:
    return [parse_dockerfile(p) for p in DOCKERFILES]


def _ids() -> list[str]:
    return [p.name for p in DOCKERFILES]


# --- the parser itself ---------------------------------------------------------------------


def test_parser_joins_continuations_and_drops_comments() -> None:
    text = 'ARG A=x\n# note\nFROM img:${A} AS b\nRUN one \\\n  # inside\n  && two\nCMD ["p"]\n'
    ins = parse_instructions(text)
    assert [i.keyword for i in ins] == ["ARG", "FROM", "RUN", "CMD"]
    assert ins[2].args == "one && two"
    assert ins[2].line == 4


def test_parser_expands_global_args_in_from(tmp_path: Path) -> None:
    f = tmp_path / "x.Dockerfile"
    f.write_text("ARG IMG=python:3.11.14-slim\nFROM ${IMG} AS b\nFROM b\nUSER 1\n")
    parsed = parse_dockerfile(f)
    assert [s.image for s in parsed.stages] == ["python:3.11.14-slim", "b"]
    assert parsed.stages[0].name == "b"


def test_dockerignore_matcher_semantics() -> None:
    rx = _pattern_regex("**/__pycache__")
    assert rx.fullmatch("__pycache__") and rx.fullmatch("a/b/__pycache__")
    assert not _pattern_regex("tests").fullmatch("libs/tests")
    assert _pattern_regex("libs/*/build").fullmatch("libs/x/build")


# --- the Dockerfiles -----------------------------------------------------------------------


def test_expected_dockerfiles_exist() -> None:
    assert {p.name for p in DOCKERFILES} >= EXPECTED


@pytest.mark.parametrize("path", DOCKERFILES, ids=_ids())
def test_copy_sources_exist_in_the_build_context(path: Path) -> None:
    df = parse_dockerfile(path)
    for stage in df.stages:
        for ins in stage.all("COPY") + stage.all("ADD"):
            flags, sources, _ = copy_parts(ins)
            if "from" in flags:
                continue  # from another stage or image, not from the build context
            for src in sources:
                if re.match(r"^(https?|git)://|^git@", src):
                    continue
                matches = glob.glob(str(ROOT / src))
                assert matches, f"{path.name}:{ins.line}: COPY source {src!r} is not in the repo"
                assert not is_ignored(src), f"{path.name}:{ins.line}: .dockerignore drops {src!r}"
                for hit in map(Path, matches):
                    _assert_sources_kept(path, ins, hit)


def _assert_sources_kept(path: Path, ins: Instruction, hit: Path) -> None:
    files = [hit] if hit.is_file() else [p for p in hit.rglob("*") if p.is_file()]
    for f in files:
        rel = f.relative_to(ROOT)
        if CACHE_PARTS & set(rel.parts) or any(p.endswith(".egg-info") for p in rel.parts):
            continue
        if f.suffix in SOURCE_SUFFIXES:
            assert not is_ignored(rel.as_posix()), (
                f"{path.name}:{ins.line}: .dockerignore drops {rel}, which the build needs"
            )


@pytest.mark.parametrize("path", DOCKERFILES, ids=_ids())
def test_final_stage_runs_as_non_root_user(path: Path) -> None:
    users = parse_dockerfile(path).final.all("USER")
    assert users, f"{path.name}: the final stage sets no USER"
    user = users[-1].args.split(":")[0].strip()
    assert user not in ROOT_USERS, f"{path.name}: the final stage runs as {user!r}"
    assert user.isdigit(), f"{path.name}: USER {user} is not numeric; runAsNonRoot cannot verify it"


@pytest.mark.parametrize("path", DOCKERFILES, ids=_ids())
def test_from_images_are_pinned(path: Path) -> None:
    df = parse_dockerfile(path)
    earlier: set[str] = set()
    for stage in df.stages:
        if stage.image in earlier:
            continue
        ref = stage.image.split("@", 1)[0]
        last = ref.rsplit("/", 1)[-1]
        assert ":" in last or "@sha256:" in stage.image, f"{path.name}: {stage.image} has no tag"
        assert not ref.endswith(":latest"), f"{path.name}: {stage.image} floats on latest"
        if stage.name:
            earlier.add(stage.name)


@pytest.mark.parametrize("path", DOCKERFILES, ids=_ids())
def test_entrypoint_is_exec_form_and_its_module_is_importable(path: Path) -> None:
    final = parse_dockerfile(path).final
    argv: list[str] = []
    for keyword in ("ENTRYPOINT", "CMD"):
        found = final.all(keyword)
        if found:
            form = exec_form(found[-1])
            assert form is not None, f"{path.name}: {keyword} is in shell form"
            argv += form
    if "-m" in argv:
        module = argv[argv.index("-m") + 1]
        assert importlib.util.find_spec(module) is not None, f"{path.name}: {module} not importable"


@pytest.mark.parametrize(
    "path", [p for p in DOCKERFILES if p.stem not in BASES], ids=lambda p: p.name
)
def test_service_image_runs_its_own_package(path: Path) -> None:
    stage = SERVICE_OF.get(path.stem, path.stem)
    final = parse_dockerfile(path).final
    entry = exec_form(final.all("ENTRYPOINT")[-1])
    assert entry == ["python", "-m", f"dubset_{stage}"]
    assert exec_form(final.all("CMD")[-1]) == ["serve"]
    assert final.all("HEALTHCHECK")[-1].args.upper() == "NONE"
    assert importlib.util.find_spec(f"dubset_{stage}.__main__") is not None
    copied = {
        src
        for st in parse_dockerfile(path).stages
        for i in st.all("COPY")
        for src in copy_parts(i)[1]
    }
    assert f"services/{stage}" in copied


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements" / name).read_text().splitlines():
        req, sep, version = line.split("#", 1)[0].strip().partition("==")
        if sep:
            pins[_canonical(req)] = version.strip()
    return pins


def _locked(path: Path | None = None) -> dict[str, str]:
    """The versions an image installs with: the main lock, or for a GPU image (on the CUDA
    base) the main lock without its CPU torch family plus requirements/gpu-lock.txt."""
    pins = _pins("lock.txt")
    if path is not None and _on_cuda_base(path):
        pins = {n: v for n, v in pins.items() if n not in TORCH_FAMILY} | _pins("gpu-lock.txt")
    return pins


def _on_cuda_base(path: Path) -> bool:
    return parse_dockerfile(path).global_args.get("BASE_IMAGE", "").startswith("dubset-cuda-base")


def _requirement_name(dep: str) -> str:
    return _canonical(re.split(r"[\s\[<>=!~;]", dep.strip(), maxsplit=1)[0])


def _image_requirements(path: Path) -> set[str]:
    """Names in the docker/requirements/<image>.txt a Dockerfile installs, if any."""
    req = DOCKER_DIR / "requirements" / f"{path.stem}.txt"
    if f"docker/requirements/{path.stem}.txt" not in path.read_text():
        return set()
    lines = [ln.split("#", 1)[0].strip() for ln in req.read_text().splitlines()]
    return {_requirement_name(ln) for ln in lines if ln}


SERVICE_IMAGES = [p for p in DOCKERFILES if p.stem not in BASES]


def _project_dir(name: str) -> Path | None:
    """The folder of a dubset-* package: libs/dubset_x or services/x."""
    short = name.removeprefix("dubset-").replace("-", "_")
    for folder in (ROOT / "libs" / f"dubset_{short}", ROOT / "services" / short):
        if (folder / "pyproject.toml").is_file():
            return folder
    return None


def _declared(folder: Path) -> list[str]:
    import tomllib

    project = tomllib.loads((folder / "pyproject.toml").read_text())
    deps: list[str] = project["project"]["dependencies"]
    return deps


@pytest.mark.parametrize("path", SERVICE_IMAGES, ids=lambda p: p.name)
def test_service_dependencies_resolve_in_the_lock(path: Path) -> None:
    """The image installs with the lock as constraint: every dependency it declares (other
    than the project's own packages) and every name its requirements file lists must have a
    locked version, or pip floats it. A project package the base lacks (dubset-asr for
    translation) is built into the image, and its own dependencies must be locked too."""
    service = SERVICE_OF.get(path.stem, path.stem)
    locked = _locked(path)
    copied = {src for st in parse_dockerfile(path).stages for i in st.all("COPY")
              for src in copy_parts(i)[1]}  # fmt: skip
    todo, seen = [ROOT / "services" / service], set()
    while todo:
        folder = todo.pop()
        for dep in _declared(folder):
            name = _requirement_name(dep)
            if not name.startswith("dubset-"):
                assert name in locked, f"{path.name}: {dep} ({folder.name}) has no pinned version"
                continue
            found = _project_dir(name)
            assert found is not None, f"{dep}: no such library or service"
            if name not in IN_THE_BASE and found not in seen:
                rel = found.relative_to(ROOT).as_posix()
                assert rel in copied, f"{path.name} needs {dep} but builds no wheel of {rel}"
                seen.add(found)
                todo.append(found)
    for name in _image_requirements(path):
        assert name in locked, f"{path.name}: {name} (docker/requirements) has no pinned version"


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_images_are_on_the_cuda_base_and_say_so(stage: str) -> None:
    path = DOCKER_DIR / f"{stage}.Dockerfile"
    assert _on_cuda_base(path), f"{path.name} does not build on dubset-cuda-base"
    text = path.read_text()
    assert "/opt/dubset/pip-check" in text


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_images_install_what_the_service_declares(stage: str) -> None:
    """A GPU image that installs its wheels with --no-deps lists every declared dependency in
    its docker/requirements file (or installs it by name), so none goes missing."""
    import tomllib

    path = DOCKER_DIR / f"{stage}.Dockerfile"
    text = " ".join(i.args for i in parse_dockerfile(path).final.all("RUN"))
    if "--no-deps resemblyzer /opt/dubset/wheels" not in text:
        return  # wheels installed with their dependencies
    project = tomllib.loads((ROOT / "services" / stage / "pyproject.toml").read_text())
    declared = {_requirement_name(d) for d in project["project"]["dependencies"]}
    wanted = _image_requirements(path) | {"resemblyzer"}
    missing = {d for d in declared if not d.startswith("dubset-")} - wanted
    assert not missing, f"{path.name} installs dubset-{stage} --no-deps without {sorted(missing)}"


@pytest.mark.parametrize("stage", ["translation", "quality"])
def test_cpu_images_with_dubset_asr_get_the_locked_cpu_torch_alone_from_the_pytorch_index(
    stage: str,
) -> None:
    """silero-vad (through dubset-asr) declares torch; the CPU image takes the lock's CPU build,
    which only the PyTorch CPU index serves: torch alone, --no-deps, and every other package
    from the default index, then a plain `pip check` (no tolerated gaps)."""
    path = DOCKER_DIR / f"{stage}.Dockerfile"
    df = parse_dockerfile(path)
    assert not _on_cuda_base(path)
    assert _pins("lock.txt")["torch"].endswith("+cpu")
    run = " && ".join(i.args for i in df.final.all("RUN"))
    steps = [s.strip() for s in run.split("&&")]
    torch_steps = [s for s in steps if "--index-url" in s or "torch" in s.split()]
    assert len(torch_steps) == 1
    words = shlex.split(torch_steps[0])
    assert words[-1] == "torch" and "--no-deps" in words
    assert words[words.index("--constraint") + 1] == "/opt/dubset/constraints.txt"
    assert words[words.index("--index-url") + 1] == "${TORCH_INDEX_URL}"
    args = dict(_arg(i.args) for i in df.final.all("ARG"))
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert not [s for s in steps if "--extra-index-url" in s]
    assert "pip check" in steps and "/opt/dubset/pip-check" not in run
    assert steps.index("pip check") > steps.index(torch_steps[0])


def test_translation_image_reads_models_from_the_mount_and_allows_no_endpoint() -> None:
    """Like asr: the Whisper base is assembled into /models/whisper-base by the chart's init
    container (DUBSET_MODEL_DIR), never downloaded; the openai backend calls nothing until
    DUBSET_TRANSLATION_ENDPOINTS lists an endpoint (unset, the service would call any)."""
    env: dict[str, str] = {}
    for ins in parse_dockerfile(DOCKER_DIR / "translation.Dockerfile").final.all("ENV"):
        for word in shlex.split(ins.args):
            key, _, value = word.partition("=")
            env[key] = value
    assert env["DUBSET_MODEL_DIR"] == "/models"
    assert env["DUBSET_TRANSLATION_ENDPOINTS"] == ""
    asr_env = " ".join(
        i.args for i in parse_dockerfile(DOCKER_DIR / "asr.Dockerfile").final.all("ENV")
    )
    assert "DUBSET_MODEL_DIR=/models" in asr_env


def test_render_image_builds_voices_without_its_engines_and_checks_ffmpeg() -> None:
    """render needs dubset-voices for its loudness meter and limiters only: the CPU image builds
    the library's wheel and installs it without the `engines` extra (TTS voices it never runs),
    with a plain `pip check`; its import check loads the mixer and resolves ffmpeg and ffprobe
    (the base's), as the stage does at its first job."""
    import subprocess
    import sys
    import tomllib

    path = DOCKER_DIR / "render.Dockerfile"
    df = parse_dockerfile(path)
    assert not _on_cuda_base(path)
    assert not _image_requirements(path)
    run = " && ".join(i.args for st in df.stages for i in st.all("RUN"))
    steps = [s.strip() for s in run.split("&&")]
    [wheel] = [s for s in steps if s.startswith("pip wheel")]
    assert {"./libs/dubset_voices", "./services/render"} <= set(shlex.split(wheel))
    voices = tomllib.loads((ROOT / "libs/dubset_voices/pyproject.toml").read_text())["project"]
    assert "[engines]" not in run
    for dep in voices["optional-dependencies"]["engines"]:
        assert _requirement_name(dep) not in run, f"{path.name} installs {dep}"
    assert "pip check" in steps and "/opt/dubset/pip-check" not in run
    [check] = [s for s in steps if s.startswith("python -c")]
    code = shlex.split(check)[2]
    assert "dubset_render.mixer" in code and "Tools().resolve()" in code
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_gpu_lock_changes_only_the_torch_family() -> None:
    """gpu-lock.txt adds packages and replaces torch; every shared library keeps one version."""
    main, gpu = _pins("lock.txt"), _pins("gpu-lock.txt")
    assert set(gpu) >= TORCH_FAMILY
    assert gpu["torch"].split("+")[0] != main["torch"] or "+cpu" not in gpu["torch"]
    clashes = {n for n in set(main) & set(gpu) - TORCH_FAMILY if main[n] != gpu[n]}
    assert not clashes
    for name in ("pyannote-audio", "coqui-tts", "ctranslate2", "faster-whisper"):
        assert name in main or name in gpu, f"{name} is in neither lock"
    wanted = {_requirement_name(ln) for ln in _requirement_lines(ROOT / "requirements" / "gpu.in")}
    assert wanted <= set(gpu) | set(main)


def _requirement_lines(path: Path) -> list[str]:
    lines = [ln.split("#", 1)[0].strip() for ln in path.read_text().splitlines()]
    return [ln for ln in lines if ln]


def test_spleeter_image_and_setup_install_the_same_spleeter() -> None:
    setup = (ROOT / "tools" / "setup_spleeter.sh").read_text()
    local = re.search(r'SPLEETER_VERSION="([^"]+)"', setup)
    image = re.search(
        r"ARG SPLEETER_VERSION=(\S+)", (DOCKER_DIR / "spleeter.Dockerfile").read_text()
    )
    assert local and image and local.group(1) == image.group(1)
    assert "requirements/spleeter-lock.txt" in setup
    locked = _pins("spleeter-lock.txt")
    for name in map(_requirement_name, _requirement_lines(ROOT / "requirements" / "spleeter.txt")):
        assert name in locked, f"spleeter.txt: {name} is not in spleeter-lock.txt"


def test_pip_check_wrapper_tolerates_only_resemblyzer(tmp_path: Path) -> None:
    """docker/pip-check.sh against a fake pip: the known resemblyzer gap passes, others fail."""
    import os
    import subprocess

    fake = tmp_path / "pip"

    def run(report: str) -> int:
        fake.write_text(f"#!/bin/bash\nprintf '%s\\n' {shlex.quote(report)}\nexit 1\n")
        fake.chmod(0o755)
        env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
        return subprocess.run(
            ["bash", str(DOCKER_DIR / "pip-check.sh")], env=env, capture_output=True, check=False
        ).returncode

    assert run("resemblyzer 0.1.4 requires webrtcvad, which is not installed.") == 0
    assert run("resemblyzer 0.1.4 requires typing, which is not installed.") == 0
    assert run("No broken requirements found.") == 0
    assert run("torch 2.10.0 has requirement sympy>=1.13.3, but you have sympy 1.0.") == 1
    assert run("pyannote-audio 4.0.7 requires lightning, which is not installed.") == 1


def test_base_image_has_ffmpeg_and_a_writable_home_in_tmp() -> None:
    final = parse_dockerfile(DOCKER_DIR / "base.Dockerfile").final
    env = " ".join(i.args for i in final.all("ENV"))
    run = " ".join(i.args for i in final.all("RUN"))
    for setting in ("HOME=/tmp", "TMPDIR=/tmp", "PYTHONDONTWRITEBYTECODE=1", "PATH=/opt/venv/bin"):
        assert setting in env
    assert "install -y --no-install-recommends ffmpeg" in run
    assert any(i.args.startswith("--from=builder /opt/venv") for i in final.all("COPY"))


@pytest.mark.parametrize(
    "relpath, ignored",
    [
        (".venv/bin/python", True),
        (".git/HEAD", True),
        (".run/kafka.log", True),
        ("tests/unit/test_docker.py", True),
        ("libs/dubset_common/src/dubset_common/__pycache__/bus.cpython-311.pyc", True),
        ("libs/dubset_common/src/dubset_common.egg-info/PKG-INFO", True),
        (".mypy_cache/3.11/x.json", True),
        ("libs/dubset_common/pyproject.toml", False),
        ("services/alignment/src/dubset_alignment/server.py", False),
        ("requirements/lock.txt", False),
    ],
)
def test_dockerignore_keeps_sources_and_drops_the_rest(relpath: str, ignored: bool) -> None:
    assert is_ignored(relpath) is ignored
