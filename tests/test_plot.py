"""costcalc plot (matplotlib, the optional extra): the pictures are real files of the asked format,
and without matplotlib the command says what to install."""

from __future__ import annotations

import sys

import pytest

pytest.importorskip("matplotlib", reason="costcalc[plot] is not installed (the test extra installs it)")


def test_layer_bars_and_the_pareto_front(run, tmp_path):
    png, svg = tmp_path / "layers.png", tmp_path / "pareto.svg"
    assert run("plot", "mobilenet", "-o", str(png)).code == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    r = run("plot", "mobilenet", "shufflenet_v2", "squeezenet", "--kind", "pareto", "-o", str(svg))
    assert r.code == 0, r.err
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "Pareto front" in text and "shufflenet_v2:1.0x" in text


def test_the_pareto_front_is_the_points_nothing_beats():
    from costcalc.plot import pareto

    captured = {}

    def fake_save(fig, path, inputs=()):
        ax = fig.axes[0]
        captured["front"] = [tuple(xy) for xy in ax.lines[0].get_xydata()]

    import costcalc.plot as pl

    original, pl._save = pl._save, fake_save
    try:
        pareto([{"label": "a", "spec": "s", "macs": 100e6, "top1": 60.0},
                {"label": "b", "spec": "s", "macs": 200e6, "top1": 59.0},  # beaten by a: costlier and worse
                {"label": "c", "spec": "s", "macs": 300e6, "top1": 70.0},
                {"label": "d", "spec": "s", "macs": 300e6, "top1": 65.0}], "x.png", "t")  # beaten by c
    finally:
        pl._save = original
    assert captured["front"] == [(100.0, 60.0), (300.0, 70.0)]


def test_bad_plot_requests_are_one_line(run, tmp_path):
    for args, message in ((["plot", "mobilenet", "-o", str(tmp_path / "x.txt")], "expected a .png, .svg or .pdf"),
                          (["plot", "mobilenet", "alexnet", "--kind", "layers", "-o", str(tmp_path / "x.png")], "one spec"),
                          (["plot", "lenet5", "--kind", "pareto", "-o", str(tmp_path / "x.png")], "no published top-1")):
        r = run(*args)
        assert r.code == 2 and message in r.err and r.err.count("\n") == 1, r.err


def test_a_plot_never_overwrites_the_spec_it_draws(run, write_spec):
    path = write_spec("name: t\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: conv, out: 4, kernel: 3}\n", "t.png")
    before = open(path).read()
    r = run("plot", path, "-o", path)
    assert r.code == 2 and "is a spec this command reads" in r.err and open(path).read() == before


def test_without_matplotlib_the_command_says_what_to_install(run, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    r = run("plot", "mobilenet", "-o", str(tmp_path / "x.png"))
    assert r.code == 2 and "pip install 'costcalc[plot]'" in r.err


def test_the_yaml_path_does_not_import_matplotlib():
    import subprocess

    code = "import sys; from costcalc.cli import main; main(['report', 'mobilenet']); print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip().endswith("False")
