"""A corpus of hostile and malformed specs (tests/hostile/, one file per failure kind).

Every one must end in exit status 2 and a single located line on stderr: no traceback, no crash, no
hang (each runs in its own process, with a time and an address-space limit, so that a crash of the
YAML library or a runaway allocation would show), and nothing written.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import ROOT

CORPUS = sorted((ROOT / "tests" / "hostile").glob("*.yaml"))
MEMORY = 1 << 30  # bytes of address space a case may use


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def test_the_corpus_covers_every_failure_kind():
    names = {p.stem for p in CORPUS}
    for kind in ("typo_key", "wrong_type", "missing_key", "block_cycle", "repeat_billion", "nested_repeat_bomb",
                 "int64_overflow", "alias_bomb", "binary", "latin1", "a_directory", "deep_nesting", "truncated",
                 "unknown_type", "negative_size", "groups_not_divisible", "kernel_too_big", "concat_mismatch",
                 "add_mismatch", "deep_blocks", "code_expression", "power_expression"):
        assert kind in names


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_spec_is_one_line_exit_2(path, tmp_path):
    out = tmp_path / "out.json"
    env = dict(os.environ, COLUMNS="100")
    proc = subprocess.run(
        [sys.executable, "-m", "costcalc", "report", str(path), "--format", "json", "-o", str(out)],
        capture_output=True, text=True, timeout=30, cwd=ROOT, env=env, preexec_fn=_limit_memory,
    )
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-500:])
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: "), proc.stderr[-500:]
    assert path.name in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_missing_file(run):
    r = run("report", "no/such/spec.yaml")
    assert r.code == 2 and "no/such/spec.yaml: no such file" in r.err


def test_unreadable_file(run, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read any file")
    path = tmp_path / "secret.yaml"
    path.write_text("name: x\n")
    path.chmod(0)
    r = run("report", str(path))
    assert r.code == 2 and "cannot read" in r.err


def test_limits_are_options(run):
    r = run("report", "mobilenet", "--max-layers", "50")
    assert r.code == 2 and "more than 50 layers" in r.err and "--max-layers" in r.err
    assert run("report", "mobilenet", "--max-repeat", "3").code == 2
    assert run("report", "resnet50", "--max-depth", "2").code == 2
    assert run("report", "mobilenet", "--max-layers", "84").code == 0  # exactly its 84 layers


def test_interrupted_write_leaves_the_previous_file(monkeypatch, tmp_path):
    from costcalc import output

    target = tmp_path / "report.json"
    target.write_text("previous")

    def fail(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        output.write_output(["new contents"], str(target))
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_mutants_of_the_bundled_specs_end_cleanly():
    """A sample of the mutation runner (tests/mutation.py; run it by hand for thousands): mutants of
    every bundled spec, each in its own process with a time and memory limit."""
    from mutation import run

    problems = run(seed=2026, count=40)
    assert not problems, "\n".join(problems)
