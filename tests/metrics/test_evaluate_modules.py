"""The packaged metrics/ modules load with evaluate.load: by path, and by bare name after
`import fac_datasets`, from any cwd, offline, with or without HF_EVALUATE_OFFLINE, from a wheel.

evaluate state (its modules cache, HF_EVALUATE_OFFLINE) is read at import time, so each case
runs in a fresh interpreter with its own HF_MODULES_CACHE and a tmp cwd.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from helpers import run_python

from fac_datasets.evaluate_modules import available_modules, metrics_dir, module_path

REPO = Path(__file__).resolve().parents[2]
OURS = [
    "distinct_n",
    "ngram_entropy",
    "pos_distinct",
    "pair_cosdist",
    "semantic_entropy",
    "vendi",
    "novelsum",
    "dcscore",
    "g_vendi",
]
NEEDS_PROXY_MODEL = ["g_vendi"]  # its doctest loads the embedded SmolLM2: a slow test


def test_every_module_folder_is_found_with_its_card():
    found = available_modules()
    assert set(OURS) <= set(found)
    for name in OURS:
        assert found[name] == metrics_dir() / name / f"{name}.py"
        card = (metrics_dir() / name / "README.md").read_text()
        front = re.match(r"^---\n(.*?)\n---\n", card, re.S)
        assert front, f"{name}/README.md has no YAML front matter"
        assert "- measurement" in front.group(1) and "# Measurement Card for" in card
    assert module_path("distinct_n") == found["distinct_n"]
    assert module_path("no_such_metric") is None
    assert module_path("./distinct_n") is None and module_path("org/distinct_n") is None


LOAD_ALL = f"""
    import fac_datasets, evaluate, json, os
    out = {{}}
    for name in {OURS!r}:
        module = evaluate.load(name)
        assert type(module).__module__.startswith(f"evaluate_modules.metrics.{{name}}."), type(module).__module__
        out[name] = module.name
    out["distinct"] = evaluate.load("distinct_n").compute(data=["The cat sat.", "The dog sat.", "A cat ran!"], n=2)
    out["entropy"] = evaluate.load("ngram_entropy").compute(data=["a b a b"], n=1, base=2)
    out["by_path"] = evaluate.load(os.path.join({str(metrics_dir())!r}, "distinct_n")).compute(data=["a b", "a b"], n=2)
    print(json.dumps(out))
"""


def test_bare_names_load_from_a_tmp_cwd_with_evaluate_online_mode(tmp_path):
    """HF_EVALUATE_OFFLINE unset: evaluate would ask the Hub first; our names never get there."""
    out = run_python(LOAD_ALL, tmp_path, offline=False)
    assert '"distinct": {"distinct_2": 0.8888888888888888}' in out
    assert '"entropy": {"entropy_1": 1.0}' in out
    assert '"by_path": {"distinct_2": 0.5}' in out


def test_bare_name_with_evaluate_offline_and_evaluate_imported_first(tmp_path):
    code = """
        import evaluate                      # imported before fac_datasets: wrapped on import
        try:
            evaluate.load("distinct_n")
        except FileNotFoundError:
            print("not found before import fac_datasets")
        import fac_datasets
        print(evaluate.load("distinct_n").compute(data=["a b a b", "c d"], n=2, aggregate="mean"))
        try:
            evaluate.load("no_such_metric_xyz")
        except FileNotFoundError:
            print("unknown names still fail")
    """
    out = run_python(code, tmp_path, offline=True)
    assert "not found before import fac_datasets" in out
    assert "{'distinct_2': 0.8333333333333333}" in out
    assert "unknown names still fail" in out


def test_a_module_in_the_cwd_still_wins(tmp_path):
    """evaluate's own precedence is kept: ./distinct_n/distinct_n.py shadows the packaged one."""
    local = tmp_path / "distinct_n"
    local.mkdir()
    (local / "distinct_n.py").write_text(
        textwrap.dedent(
            """
            import datasets
            import evaluate

            class Local(evaluate.Measurement):
                def _info(self):
                    return evaluate.MeasurementInfo(description="", citation="", inputs_description="",
                        features=datasets.Features({"data": datasets.Value("string")}))
                def _compute(self, data):
                    return {"local": len(data)}
            """
        )
    )
    out = run_python(
        "import fac_datasets, evaluate; print(evaluate.load('distinct_n').compute(data=['x']))", tmp_path, offline=False
    )
    assert "{'local': 1}" in out


def test_import_fac_datasets_stays_light(tmp_path):
    code = (
        "import sys, fac_datasets; "
        "print(sorted(m for m in ('torch', 'evaluate', 'datasets', 'spacy') if m in sys.modules))"
    )
    assert run_python(code, tmp_path, offline=False).strip() == "[]"


@pytest.mark.slow
def test_bare_names_load_from_an_installed_wheel(tmp_path):
    """Build the wheel, install it --no-deps into a throwaway venv that sees .venv's deps but not
    the editable checkout, and load by bare name from a tmp cwd."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(wheels.glob("fac_datasets-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys._base_executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    deps = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p).is_dir())
    # A plain path line: .venv's own .pth files (the editable install's finder) are not run.
    (site / "zz_project_deps.pth").write_text(str(deps) + "\n")
    work = tmp_path / "cwd"
    work.mkdir()
    code = """
        import fac_datasets, evaluate
        from fac_datasets.evaluate_modules import available_modules, metrics_dir
        print(fac_datasets.__file__)
        print(metrics_dir())
        print(sorted(available_modules()))
        print(evaluate.load("distinct_n").compute(data=["a b", "a b"], n=2))
    """
    out = run_python(code, work, offline=False, python=str(venv / "bin" / "python")).splitlines()
    assert out[0].startswith(str(site)) and out[1].startswith(str(site))
    for name in OURS:
        assert name in out[2]
        assert (Path(out[1]) / name / "README.md").is_file()
    assert out[3] == "{'distinct_2': 0.5}"


@pytest.mark.slow
def test_model_backed_modules_compute_through_evaluate(tmp_path):
    """The spaCy and MiniLM shims, through evaluate.load by bare name, evaluate offline."""
    from fac_datasets.cache import cache_root

    code = """
        import math
        import fac_datasets, evaluate
        from fac_datasets.errors import FacInputError
        print("pos", evaluate.load("pos_distinct").compute(data=["The cat sat.", "A dog ran."]))
        pair = evaluate.load("pair_cosdist").compute(data=["How do I bake bread?", "The stock market fell today."])
        print("pair", pair["n_used"], pair["sampled"], pair["seed"], 0.5 < pair["pair_cosdist"] < 1.2)
        sampled = evaluate.load("pair_cosdist").compute(data=["a b", "c d", "e f", "g h"], sample_size=2, seed=5)
        print("sampled", sampled["n_texts"], sampled["n_used"], sampled["sampled"], sampled["seed"])
        se = evaluate.load("semantic_entropy").compute(
            data=["Give me a bread recipe.", "What is a recipe for bread?", "The stock market fell."])
        expected = -(2/3*math.log(2/3) + 1/3*math.log(1/3))
        print("se", se["n_clusters"], round(se["semantic_entropy"], 6) == round(expected, 6))
        print("vendi", round(evaluate.load("vendi").compute(data=["hello there", "hello there"])["vendi"], 6))
        texts = ["How do I bake bread?", "Give me a bread recipe.", "The stock market fell today.", "Hi!"]
        ns = evaluate.load("novelsum").compute(data=texts[:3], references=texts * 3, neighbors=2)
        print("novelsum", ns["n_reference"], ns["density_power"], ns["novelsum"] > 0)
        print("dcscore", 1.0 < evaluate.load("dcscore").compute(data=texts)["dcscore"] < 4.0)
        try:
            evaluate.load("distinct_n").compute(data=[])
        except FacInputError as exc:
            print("empty:", exc)
    """
    out = run_python(code, tmp_path, offline=True, FAC_DATASETS_CACHE=str(cache_root()))
    assert "pos {'pos_distinct_2': 0.5}" in out
    assert "pair 2 False None True" in out
    assert "sampled 4 2 True 5" in out
    assert "se 2 True" in out
    assert "vendi 1.0" in out
    assert "novelsum 4 0.5 True" in out  # duplicates in the reference count once
    assert "dcscore True" in out
    assert "empty: Got 0 texts" in out


def test_hook_rewrites_only_our_bare_names():
    from fac_datasets.evaluate_modules import _resolve

    assert _resolve("distinct_n") == str(module_path("distinct_n"))
    for other in ("accuracy", "org/distinct_n", "./distinct_n", "distinct_n.py", "", None, 3):
        assert _resolve(other) == other


def test_metric_path_loads_without_the_hook(tmp_path):
    import fac_datasets
    from fac_datasets.errors import FacInputError

    assert fac_datasets.metric_path("fac").endswith("fac/fac.py")
    with pytest.raises(FacInputError, match="No packaged evaluate module 'nope'; available: .*distinct_n"):
        fac_datasets.metric_path("nope")
    code = """
        import evaluate, fac_datasets, json
        loading = evaluate.loading
        loading.evaluation_module_factory = loading.evaluation_module_factory.__wrapped__  # the hook is gone
        print(json.dumps(evaluate.load(fac_datasets.metric_path("distinct_n")).compute(data=["a b", "a b"], n=2)))
    """
    assert run_python(code, tmp_path, offline=True).strip() == '{"distinct_2": 0.5}'


DOCTESTS = """
    import doctest, json, sys, evaluate, fac_datasets
    failures = {{}}
    for name in {names!r}:
        module = evaluate.load(name)  # the class docstring carries the module's examples
        test = doctest.DocTestParser().get_doctest(
            module.inputs_description, {{"evaluate": evaluate, "fac_datasets": fac_datasets}}, name, None, 0
        )
        assert test.examples, name + " has no examples"
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        runner.run(test, out=sys.stderr.write)
        failures[name] = [runner.failures, len(test.examples)]
    print(json.dumps(failures))
"""


def _run_doctests(names: list[str], tmp_path: Path, **env: str) -> dict:
    import json

    return json.loads(run_python(DOCTESTS.format(names=names), tmp_path, offline=True, **env).strip().splitlines()[-1])


def test_docstring_examples_of_the_baseline_modules_run(tmp_path):
    """evaluate's own habit (tests/test_metric_common.py): every module's examples are doctests."""
    names = [n for n in OURS if n not in NEEDS_PROXY_MODEL]
    results = _run_doctests(names, tmp_path)
    assert {name: failed for name, (failed, _) in results.items()} == dict.fromkeys(names, 0)


@pytest.mark.slow
def test_docstring_example_of_g_vendi_runs_on_the_embedded_model(tmp_path):
    results = _run_doctests(NEEDS_PROXY_MODEL, tmp_path, FAC_DATASETS_CACHE=os.environ.get("FAC_DATASETS_CACHE", ""))
    assert results == {"g_vendi": [0, 3]}


def test_new_modules_compute_through_evaluate_and_reject_bad_rows(tmp_path, tiny_model_dir):
    """G-Vendi on the tiny model, NovelSum's references outside evaluate's row batching, one-line input errors."""
    code = f"""
        import fac_datasets, evaluate
        from fac_datasets.errors import FacInputError
        g = evaluate.load("g_vendi").compute(
            data=["the cat sat", "the cat sat", "why is the sky blue?"], model={str(tiny_model_dir)!r}, projection_dim=8
        )
        print("g_vendi", g["n_texts"], g["projection_dim"], g["n_params"], 1.0 < g["g_vendi"] <= 2.0 + 1e-9)
        bad = [("dcscore", ["only one"]), ("novelsum", ["a", None]), ("g_vendi", []), ("dcscore", ["a", 3])]
        for name, data in bad:
            try:
                evaluate.load(name).compute(data=data)
            except FacInputError as exc:
                print("error:", exc)
        try:
            evaluate.load("novelsum").compute(data=["a b", "c d"], references=["x", 3])
        except FacInputError as exc:
            print("error:", exc)
    """
    out = run_python(code, tmp_path, offline=True)
    assert "g_vendi 3 8 9216 True" in out  # the last block of the tiny Llama: 9,216 linear weights
    assert "error: dcscore.compute data: Got 1 texts: at least 2 texts needed." in out
    assert "error: novelsum.compute data: Row 1 is None" in out
    assert "error: g_vendi.compute data: Got 0 texts: at least one text needed." in out
    assert "error: dcscore.compute data: Row 1 is a int" in out
    assert "error: novelsum.compute references: Row 1 is a int" in out


@pytest.mark.slow
def test_docstring_example_of_fac_runs_on_the_embedded_model(tmp_path):
    results = _run_doctests(["fac"], tmp_path, FAC_DATASETS_CACHE=os.environ.get("FAC_DATASETS_CACHE", ""))
    assert results == {"fac": [0, 5]}  # the variants example was added
