"""Which catalog features a command works on: 'all', 'top:N' (most frequent) or ids '12,40,7'."""

from __future__ import annotations

from fac_datasets.errors import FacConfigError


def parse_feature_selection(spec: str | None, catalog) -> list[int]:
    """'all' (or nothing), 'top:N' (the N most frequent features), or ids '12,40,7'."""
    if spec is None or spec == "all":
        return catalog.feature_ids
    if spec.startswith("top:"):
        try:
            n = int(spec[4:])
        except ValueError:
            raise FacConfigError(f"--features top:N needs a whole number, got {spec!r}.") from None
        order = sorted(catalog.feature_ids, key=lambda f: -catalog.row(f)["doc_freq"])
        return sorted(order[:n])
    try:
        ids = [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        raise FacConfigError(f"--features takes 'all', 'top:N' or comma-separated ids, got {spec!r}.") from None
    missing = [f for f in ids if f not in catalog]
    if missing:
        raise FacConfigError(f"--features: {missing[:5]} are not in the catalog (never active in the corpus).")
    return ids
