"""Hostile option values, environments and output targets: each case in its own process, with a
time and an address-space limit, so that a hang, a runaway allocation or a crash shows as a failure.

Every case found by hand while hardening costcalc is here (issue "Reliability II"): tracebacks from
options checked less strictly than specs, wrong numbers with exit 0, hangs, and output that harmed a
file. Bad input ends in exit 2 with one line on stderr; accepted input ends in exit 0 with a result.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys

import pytest

from conftest import ROOT

MEMORY = 1 << 30  # bytes of address space a case may use
TIMEOUT = 60  # seconds; a case that hangs fails here


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def limited(*argv: str, env: dict | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    full = {**os.environ, "COLUMNS": "100", **(env or {})}
    return subprocess.run([sys.executable, "-m", "costcalc", *argv], capture_output=True, text=True,
                          timeout=TIMEOUT, cwd=cwd, env=full, preexec_fn=_limit)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-800:])
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr[-800:]
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in proc.stderr, proc.stderr


ALPHAS_1000 = ",".join(f"{0.2 + i / 1250:.4f}" for i in range(1000))
SIZES_1000 = ",".join(str(96 + i) for i in range(1000))

REFUSED = [
    ("flops-per-mac-nan", ["report", "mobilenet", "--flops-per-mac", "nan"], {}, "'--flops-per-mac'"),
    ("flops-per-mac-inf", ["report", "mobilenet", "--flops-per-mac", "inf"], {}, "'--flops-per-mac'"),
    ("fire-design-sr-nan", ["analyze", "fire-design", "--sr", "nan"], {}, "'--sr'"),
    ("alpha-3e17", ["sweep", "mobilenet", "--alpha", "1,3e17", "--format", "csv"], {}, "'--alpha'"),
    ("alpha-nan", ["report", "mobilenet", "--alpha", "nan"], {}, "'--alpha'"),
    ("rho-rounds-to-zero", ["report", "lenet300", "--rho", "0.01"], {}, "0 pixels"),
    ("resolution-huge", ["report", "mobilenet", "--resolution", "1e12"], {}, "'--resolution'"),
    ("max-depth-900", ["report", "mobilenet", "--max-depth", "900"], {}, "'--max-depth'"),
    ("set-deep-nesting", ["report", "mobilenet", "--set", "classes=" + "[" * 5000 + "]" * 5000], {}, "classes"),
    ("set-huge-integer", ["report", "mobilenet", "--set", "classes=1" + "0" * 5000], {}, "digits"),
    ("set-not-a-count", ["report", "mobilenet", "--set", "classes=-3"], {}, "positive integer"),
    # a switch or a number of the spec set to something else: read as true (or 1) by the expressions,
    # it built another network silently
    ("set-switch-to-text", ["report", "mobilenet_v3", "--set", "minimalistic=maybe"], {}, "parameter 'minimalistic': expected true or false, got 'maybe'"),
    ("set-switch-to-number", ["report", "mobilenet_v3", "--set", "finegrain=1"], {}, "expected true or false, got 1"),
    ("set-number-to-switch", ["compare", "mobilenet", "mobilenet_v3", "--set", "classes=true"], {}, "parameter 'classes': expected a number, got true"),
    ("set-text-outside-choices", ["report", "squeezenet", "--set", "bypass=complex"], {}, "parameter 'bypass': 'complex' is not one of its choices (none, simple)"),
    ("set-number-outside-choices", ["sweep", "shufflenet", "--set", "groups=6", "--resolution", "224,160"], {}, "parameter 'groups': 6 is not one of its choices"),
    ("set-list-outside-choices", ["compare", "resnet50", "mobilenet", "--set", "stride_on=[1x1]"], {}, "parameter 'stride_on': a list is not one of its choices"),
    ("sweep-grid-too-large", ["sweep", "mobilenet", "--alpha", ALPHAS_1000, "--resolution", SIZES_1000 + "," + SIZES_1000
                              + "," + SIZES_1000 + "," + SIZES_1000 + "," + SIZES_1000 + "," + SIZES_1000 + ","
                              + SIZES_1000 + "," + SIZES_1000 + "," + SIZES_1000 + "," + SIZES_1000 + ",1",
                              "--format", "csv"], {}, "limit"),
    ("sweep-table-too-large", ["sweep", "mobilenet", "--alpha", ALPHAS_1000, "--resolution", SIZES_1000], {}, "100,000"),
    ("compression-bits-0", ["analyze", "compression", "alexnet", "--conv-bits", "0"], {}, "'--conv-bits'"),
    ("output-device", ["report", "mobilenet", "-o", "/dev/null"], {}, "not a regular file"),
    ("output-missing-folder", ["report", "mobilenet", "-o", "/no/such/folder/x.txt"], {}, "no such folder"),
    ("spec-is-a-device", ["report", "/dev/zero"], {}, "not a regular file"),
]


@pytest.mark.parametrize("argv,env,fragment", [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused_in_one_line(argv, env, fragment):
    assert_one_line_error(limited(*argv, env=env), fragment)


def test_columns_that_are_not_a_number_are_ignored():
    for value in ("abc", "-5", "99999999999", ""):
        proc = limited("report", "mobilenet", env={"COLUMNS": value})
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr


def test_tiny_keep_is_finite():
    proc = limited("analyze", "compression", "alexnet", "--keep", "1e-300", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["compressed_mb"] > 0 and data["ratio"] > 0


def test_entropy_with_wide_indices_is_instant():
    # used to build a list of 2**32 probabilities (minutes, 4+ GB); now in closed form
    proc = limited("analyze", "compression", "alexnet", "--huffman", "entropy", "--index-bits", "32", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["compressed_mb"] > 0


def test_a_million_configurations_stream_within_the_memory_limit(tmp_path):
    out = tmp_path / "sweep.json"
    proc = limited("sweep", "mobilenet", "--alpha", ALPHAS_1000, "--resolution", SIZES_1000, "--format", "json",
                   "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    with open(out) as fh:
        doc = json.load(fh)
    assert len(doc["configs"]) == 1_000_000
    first = doc["configs"][0]
    assert first["alpha"] == 0.2 and first["resolution"] == 96 and first["macs"] > 0


def test_fifo_as_spec_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    assert_one_line_error(limited("report", str(fifo)), "not a regular file")


def test_fifo_as_output_is_refused(tmp_path):
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    assert_one_line_error(limited("report", "mobilenet", "-o", str(fifo)), "not a regular file")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_output_through_a_symlink_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o664)
    link = tmp_path / "link.json"
    link.symlink_to("real.json")
    proc = limited("report", "mobilenet", "--format", "json", "-o", str(link))
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert json.loads(target.read_text())["spec"] == "mobilenet"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o664  # an existing file keeps its mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_new_output_file_follows_the_umask(tmp_path):
    out = tmp_path / "new.txt"
    old = os.umask(0o027)
    try:
        proc = limited("report", "mobilenet", "-o", str(out))
    finally:
        os.umask(old)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640


def test_the_spec_being_read_is_never_overwritten(tmp_path):
    spec = tmp_path / "mine.yaml"
    text = (ROOT / "specs" / "lenet5.yaml").read_text()
    spec.write_text(text)
    link = tmp_path / "alias.yaml"
    link.symlink_to(spec)
    for argv in (["report", str(spec), "-o", str(spec)], ["report", str(link), "-o", str(spec)],
                 ["compare", "mobilenet", str(spec), "-o", str(link)], ["analyze", "dws", str(spec), "-o", str(spec)]):
        assert_one_line_error(limited(*argv), "is a spec this command reads")
    assert spec.read_text() == text


def test_layer_limit_stops_a_huge_file_early(tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text("name: long\ninput: {channels: 3, size: 8}\nlayers:\n" + "  - {type: relu}\n" * 5000)
    assert_one_line_error(limited("report", str(path), "--max-layers", "1000"), "1000", "--max-layers")


# -- in-process: failures of the file system, signals, escapes -------------------------------------


def test_a_full_disk_is_one_line_and_the_old_file_stays(run, tmp_path, monkeypatch):
    import errno

    from costcalc import output

    target = tmp_path / "report.txt"
    target.write_text("previous")

    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name):  # flush, fileno: the real file's
            return getattr(self.fh, name)

    monkeypatch.setattr(output.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    r = run("report", "mobilenet", "-o", str(target))
    assert r.code == 2 and "No space left on device" in r.err and r.err.count("\n") == 1
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_sigterm_while_writing_removes_the_temporary_file(tmp_path):
    from costcalc import output

    target = tmp_path / "out.csv"
    target.write_text("previous")
    before = signal.getsignal(signal.SIGTERM)

    def chunks():
        yield "a,b\n"
        os.kill(os.getpid(), signal.SIGTERM)
        yield "never\n"

    with pytest.raises(BaseException) as info:
        output.write_output(chunks(), str(target))
    assert type(info.value).__name__ == "_Terminated"
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


ESCAPES = 'name: "evil\\e]0;owned\\a"\ninput: {channels: 3, size: 8}\nlayers:\n  - {name: "x\\e[2J\\u202e", type: relu}\n'


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_control_characters_in_names_are_shown_escaped(run, write_spec, fmt):
    r = run("report", write_spec(ESCAPES), "--format", fmt)
    assert r.code == 0, r.err
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in r.out
    if fmt == "json":
        assert json.loads(r.out)["layers"][0]["name"] == "x\x1b[2J\u202e"  # the data is intact
    else:
        assert "x\\x1b[2J\\u202e" in r.out


def test_control_characters_in_errors_are_shown_escaped(run, write_spec):
    r = run("report", write_spec(ESCAPES.replace("type: relu", "type: \"relu\\e[31m\"")))
    assert r.code == 2 and "\x1b" not in r.err and "\\x1b[31m" in r.err


def test_control_characters_reach_no_terminal(write_spec):
    """The rich path (a terminal) escapes them too."""
    import io

    from rich.console import Console

    from costcalc.engine import evaluate
    from costcalc.report import Conventions, report_table, to_rich
    from costcalc.spec import load_spec

    buf = io.StringIO()
    res = evaluate(load_spec(write_spec(ESCAPES)))
    Console(file=buf, width=120, color_system=None).print(to_rich(report_table(res, Conventions())))
    assert "\x1b]0" not in buf.getvalue() and "\\x1b]0;owned\\x07" in buf.getvalue()


def test_too_many_references_are_refused(tmp_path):
    # each reference may ask verify for its own build and evaluation: the count is bounded
    path = tmp_path / "refs.yaml"
    refs = "".join(f"  - {{quantity: params, value: 0, source: x, config: {{alpha: {0.5 + i * 1e-5}}}}}\n" for i in range(5001))
    path.write_text("name: refs\ninput: {channels: 3, size: 8}\nlayers:\n  - {type: relu}\nreferences:\n" + refs)
    for command in ("report", "verify"):
        assert_one_line_error(limited(command, str(path)), "5,001 items", "limit")
