"""The inputs of `fac diversity` as named corpora, FAC's anchor and NovelSum's density reference for them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from fac_datasets.diversity.registry import Corpus, pooled_anchor, pooled_embeddings
from fac_datasets.errors import FacInputError
from fac_datasets.inputs import dataset_name, read_texts


def read_corpora(
    inputs: Sequence[str | Path],
    columns: Sequence[str],
    *,
    max_texts: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] = lambda line: None,
) -> tuple[list[Corpus], dict[str, str]]:
    """(corpora named 'file:column', {name: column used}); `columns` once for all inputs or once per input."""
    if len(columns) not in (0, 1, len(inputs)):
        raise FacInputError(
            f"--text-column given {len(columns)} times for {len(inputs)} inputs: give it once or once per input."
        )
    corpora, used_columns = [], {}
    names = [dataset_name(p) for p in inputs]
    for i, path in enumerate(inputs):
        column = columns[i] if len(columns) == len(inputs) else (columns[0] if columns else None)
        name = names[i] if names.count(names[i]) == 1 else f"{names[i]}[{i}]"
        used, texts = read_texts(path, column, chat=False, blank=False, max_texts=max_texts, seed=seed)
        name = f"{name}:{used}"
        used_columns[name] = used
        corpora.append(Corpus(name, texts, source=str(path)))
        log(f"{path}: {len(texts)} texts from column {used!r}")
    return corpora, used_columns


def set_fac_anchor(corpora: list[Corpus], anchor: str | Path | None, column: str | None) -> None:
    """FAC's anchor for every corpus: the anchor data, or all inputs pooled."""
    if anchor is None:
        counts = pooled_anchor(corpora)
    else:
        _, texts = read_texts(anchor, column, chat=False, blank=False)
        counts = pooled_anchor([Corpus("anchor", texts)])
    for corpus in corpora:
        corpus.anchor = counts


def set_novelsum_reference(corpora: list[Corpus], anchor: str | Path | None, column: str | None) -> None:
    """NovelSum's density reference for every corpus: the anchor data embedded, or all inputs pooled (as for FAC)."""
    if anchor is None:
        reference = pooled_embeddings(corpora)
    else:
        _, texts = read_texts(anchor, column, chat=False, blank=False)
        reference = Corpus("anchor", texts).embeddings
    for corpus in corpora:
        corpus.reference_embeddings = reference
