"""The README's and the docs' example output is real output, and every command is documented there.

An example in README.md is written as

    <!-- example -->
    ```text
    $ costcalc report mobilenet --alpha 0.75 --rho 0.857
    ...the output...
    ```

This test re-runs each example at a width of 100 columns and compares.
`python -m pytest tests/test_readme.py --update-golden` rewrites the outputs in place.
"""

from __future__ import annotations

import re
import shlex

import click
import pytest

from conftest import ROOT

README = ROOT / "README.md"
PAGES = [README] + sorted((ROOT / "docs").glob("*.md"))
EXAMPLE = re.compile(
    r"(<!-- example -->\n```text\n\$ costcalc (?P<args>[^\n]*)\n)(?P<out>.*?)(```)"
    r"|(<!-- markdown: costcalc (?P<margs>[^\n]*) -->\n)(?P<mout>.*?)(<!-- end -->)",
    re.S,
)


def _examples(text: str):
    return list(EXAMPLE.finditer(text))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_readme_examples_are_real_output(run, request, monkeypatch, page):
    monkeypatch.setenv("COLUMNS", "100")
    text = page.read_text(encoding="utf-8")
    found = _examples(text)
    if page == README:
        assert found, "README.md has no examples"
    update = request.config.getoption("--update-golden")
    pieces, last, stale = [], 0, []
    for m in found:
        kind = "out" if m.group("args") is not None else "mout"
        args = m.group("args") if kind == "out" else m.group("margs")
        r = run(*shlex.split(args))
        out = r.out + r.err
        out = "\n".join(line.rstrip() for line in out.splitlines()).rstrip("\n") + "\n"
        pieces.append(text[last:m.start(kind)] + out)
        last = m.end(kind)
        if out != m.group(kind):
            stale.append(args)
    if update:
        page.write_text("".join(pieces) + text[last:], encoding="utf-8")
    else:
        assert not stale, f"{page.name} examples differ from real output: {stale} (rerun with --update-golden)"


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            out += _commands(cmd, f"{prefix}{name} ")
        else:
            out.append(f"{prefix}{name}")
    return out


def test_every_command_is_documented_with_an_example():
    from costcalc.cli import cli

    text = "".join(page.read_text(encoding="utf-8") for page in PAGES)
    shown = {m.group("args") or m.group("margs") for m in _examples(text)}
    for command in _commands(cli):
        assert any(args == command or args.startswith(command + " ") for args in shown), command


def test_the_readme_is_a_first_screen_and_links_the_rest():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 250
    for page in PAGES[1:]:
        assert f"(docs/{page.name})" in text, f"README.md does not link docs/{page.name}"
    for image in (ROOT / "docs" / "images").glob("*.png"):
        assert f"(docs/images/{image.name})" in text


def test_the_readme_says_how_many_figures_verify_checks():
    from costcalc.spec import bundled_names
    from costcalc.verify import verify_all

    text = README.read_text(encoding="utf-8")
    said = {int(a or b) for a, b in re.findall(r"checks all (\d+) of them|`costcalc verify`, all (\d+)", text)}
    checks, _ = verify_all(bundled_names())
    assert said == {len(checks)}, f"README.md says {said}, verify checks {len(checks)}"
