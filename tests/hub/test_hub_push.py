"""`fac push` against the Hub stand-in, read back with the real clients: rows, card, side files, updates."""

from __future__ import annotations

import json

from hub_inputs import snapshot, write_sae_folder
from mini_hub import Repo, hub_env

from fac_datasets.constants import DEFAULT_MODEL_ID
from fac_datasets.hub.card_data import pct

LOAD_DATASET = """
import json
from datasets import load_dataset
from huggingface_hub import DatasetCard
accepted = load_dataset("{repo}", split="train")
every_row = load_dataset("{repo}", "all", split="train")
card = DatasetCard.load("{repo}")
print(json.dumps({{"accepted": accepted.to_list(), "all": every_row.to_list(), "card": str(card),
                  "tags": card.data.tags, "license": card.data.license}}))
"""


def _pushed(proc) -> dict:
    assert proc.exit_code == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _last_json_line(text: str) -> dict:
    return json.loads(text.strip().splitlines()[-1])


def test_synthesized_dataset_round_trips_rows_and_card(fac, mini_hub, hub_python, synthesized_dir, tmp_path):
    hub = hub_env(tmp_path, mini_hub.url)  # fac push runs in a fresh interpreter against it
    from datasets import load_from_disk

    # A source dataset on the Hub whose card names its licence: the card inherits it.
    source = Repo(private=False)
    source.files["README.md"] = b"---\nlicense: cc-by-4.0\n---\n# anchor data\n"
    mini_hub.repos[("dataset", "tester/anchor-data")] = source
    before = snapshot(synthesized_dir)

    push = ["push", synthesized_dir, "--repo", "tester/synth", "--source-dataset", "tester/anchor-data"]
    result = _pushed(fac(*push, process=True, env=hub))
    assert result["kind"] == "synthesized-dataset" and result["repo_type"] == "dataset" and result["created"]
    assert snapshot(synthesized_dir) == before  # the folder was only read

    back = _last_json_line(hub_python(mini_hub.url, LOAD_DATASET.format(repo="tester/synth")))
    local = load_from_disk(str(synthesized_dir / "dataset")).to_list()
    assert back["all"] == local
    assert back["accepted"] == [row for row in local if row["accepted"]] and len(back["accepted"]) == 4

    report = json.loads((synthesized_dir / "report.json").read_text())
    card = back["card"]
    assert {"synthetic", "fac", "fac-synthesized", "toxicity"} <= set(back["tags"])
    fac_before, fac_after = pct(report["fac_before"]["fac"]), pct(report["fac_after"]["fac"])
    assert fac_before != fac_after
    assert f"went from **{fac_before}** to **{fac_after}**" in card
    assert f"| FAC (relevant features covered) | {fac_before} (3/5) | {fac_after} (5/5) |" in card
    assert f"`{DEFAULT_MODEL_ID}`" in card and "| layer (residual stream after N blocks) | 15 |" in card
    assert "`0123456789abcdef`" in card  # the SAE hash
    assert "| 3 | insults | 4 | covered | 4 | 3 | 3 | 2 | 2.500 | 2 |" in card  # the per-feature yield table
    assert "| 5 | threats \\| harm |" in card  # pipes in explanations do not break the table
    assert "| SAE filter |" in card and "| 6 | 1 | 5 |" in card and "| novelty filter |" in card
    assert "](coverage.png)" in card
    # Licences: the source's from its Hub card, the embedded model's known; they differ, so 'other'.
    assert back["license"] == "other"
    assert "| anchor / current data | tester/anchor-data | cc-by-4.0 | its Hub card |" in card
    assert "| generator |" in card and "apache-2.0 | known (embedded default) |" in card
    assert "Content warning" in card and "## Limitations" in card

    files = mini_hub.repo("dataset", "tester/synth").files
    assert files["coverage.png"].startswith(b"\x89PNG\r\n\x1a\n")
    assert json.loads(files["report.json"]) == report
    assert sorted(files) == sorted([".gitattributes", *result["files"]])


def test_catalog_round_trips_rows_sidecar_and_card(fac, mini_hub, hub_python, catalog_dir, tmp_path):
    hub = hub_env(tmp_path, mini_hub.url)  # fac push runs in a fresh interpreter against it
    from fac_datasets.catalog.catalog import FeatureCatalog

    before = snapshot(catalog_dir)
    push = ["push", catalog_dir, "--repo", "tester/catalog", "--license", "cc-by-4.0", "--private"]
    result = _pushed(fac(*push, process=True, env=hub))
    assert result["kind"] == "feature-catalog" and result["license"] == "cc-by-4.0"
    assert mini_hub.repo("dataset", "tester/catalog").private
    assert snapshot(catalog_dir) == before  # no cache or indices file left in the catalog folder
    code = """
import json
from datasets import load_dataset
from huggingface_hub import DatasetCard, hf_hub_download
from fac_datasets.catalog.catalog import FeatureCatalog
rows = load_dataset("tester/catalog", split="train")
sidecar = json.load(open(hf_hub_download("tester/catalog", "catalog.json", repo_type="dataset")))
info = {k: v for k, v in sidecar.items() if k not in ("format", "version", "provenance", "n_features")}
catalog = FeatureCatalog(rows, sidecar["provenance"], info)  # the card's recipe
card = DatasetCard.load("tester/catalog")
print(json.dumps({"rows": rows.to_list(), "sidecar": sidecar, "row3": catalog.row(3)["explanation"],
                  "card": str(card), "tags": card.data.tags, "license": card.data.license}))
"""
    back = _last_json_line(hub_python(mini_hub.url, code))
    local = FeatureCatalog.load(catalog_dir)
    assert back["rows"] == local.dataset.to_list()
    assert back["sidecar"] == json.loads((catalog_dir / "catalog.json").read_text())
    assert back["row3"] == "insults about intelligence"
    assert {"fac", "fac-catalog"} <= set(back["tags"]) and back["license"] == "cc-by-4.0"
    assert "| toxicity | 2 | 1 | 0 / 0 / 2 |" in back["card"]
    assert "| 3 | 4 | 2.50 | insults about intelligence | idiot (4) |" in back["card"]
    assert "`cc-by-4.0`, as declared by the publisher" in back["card"]


def test_sae_round_trips_weights_and_model_card(fac, mini_hub, hub_python, tmp_path):
    hub = hub_env(tmp_path, mini_hub.url)  # fac push runs in a fresh interpreter against it
    from fac_datasets.sae.io import content_hash, load_sae

    folder = write_sae_folder(tmp_path / "sae", model_name=DEFAULT_MODEL_ID)
    result = _pushed(fac("push", folder, "--repo", "tester/tiny-sae", process=True, env=hub))
    assert result["kind"] == "sae" and result["repo_type"] == "model"
    assert result["license"] == "apache-2.0"  # inherited from the backbone, the one input
    code = """
import json
from huggingface_hub import ModelCard, snapshot_download
from fac_datasets.sae.io import content_hash, load_sae
folder = snapshot_download("tester/tiny-sae")
card = ModelCard.load("tester/tiny-sae")
print(json.dumps({"hash": content_hash(load_sae(folder)), "card": str(card), "data": card.data.to_dict()}))
"""
    back = _last_json_line(hub_python(mini_hub.url, code))
    assert back["hash"] == content_hash(load_sae(folder))
    assert back["data"]["library_name"] == "sae-lens" and back["data"]["base_model"] == DEFAULT_MODEL_ID
    assert {"fac", "fac-sae", "sparse-autoencoder"} <= set(back["data"]["tags"])
    assert f"`{back['hash']}`" in back["card"] and "| d_sae | 64 |" in back["card"]
    assert mini_hub.repo("model", "tester/tiny-sae") is not None


def test_update_replaces_what_an_earlier_push_wrote(fac, mini_hub, catalog_dir, tmp_path):
    hub = hub_env(tmp_path, mini_hub.url)  # fac push runs in a fresh interpreter against it
    _pushed(fac("push", catalog_dir, "--repo", "tester/cat", process=True, env=hub))
    repo = mini_hub.repo("dataset", "tester/cat")
    repo.files["data/train-00001-of-00002.parquet"] = b"an earlier push's second shard"
    repo.files["notes.txt"] = b"the owner's own file"
    commits = len(repo.commits)

    result = _pushed(fac("push", catalog_dir, "--repo", "tester/cat", "--exists", "update", process=True, env=hub))
    assert not result["created"] and result["deleted"] == ["data/train-00001-of-00002.parquet"]
    assert len(repo.commits) == commits + 1  # one commit for the whole update
    assert "data/train-00001-of-00002.parquet" not in repo.files and repo.files["notes.txt"]
