"""Reading YAML safely, keeping the line of every key and item.

Aliases and anchors are refused (a spec has blocks for reuse), so an alias
bomb is rejected as soon as the parser reaches its first alias.  Duplicate
keys, which PyYAML would silently overwrite, are errors.
"""

from __future__ import annotations

import yaml

from .errors import SpecError

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LineDict(dict):
    """A mapping that remembers the line of each key (1-based)."""

    line: int | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lines: dict = {}

    def line_of(self, key) -> int | None:
        return self.lines.get(key, self.line)


class LineList(list):
    """A sequence that remembers the line of each item (1-based)."""

    line: int | None = None

    def __init__(self, *args):
        super().__init__(*args)
        self.lines: list = []

    def line_of(self, index: int) -> int | None:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Refused(Exception):
    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.line = line


class _Loader(_Base):
    def construct_object(self, node, deep=False):
        if node in self.constructed_objects or node in self.recursive_objects:
            raise _Refused(
                "YAML anchors and aliases are not supported in specs (use a block instead)",
                node.start_mark.line + 1,
            )
        return super().construct_object(node, deep=deep)


def _mapping(loader, node):
    if any(k.tag == "tag:yaml.org,2002:merge" for k, _ in node.value):
        raise _Refused("YAML merge keys (<<) are not supported in specs", node.start_mark.line + 1)
    out = LineDict()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            hash(key)
        except TypeError:
            raise _Refused("a mapping key must be a plain scalar", line) from None
        if key in out:
            raise _Refused(f"duplicate key {key!r}", line)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = line
    return out


def _sequence(loader, node):
    out = LineList()
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _sequence)


MAX_NESTING = 256


def _check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Walk the event stream (libyaml keeps an explicit stack: no recursion) and stop at a
    document nested deeper than `limit`, before the recursive composer could overflow the C stack."""
    depth = 0
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    for event in yaml.parse(text, Loader=_Base):
        if isinstance(event, starts):
            depth += 1
            if depth > limit:
                raise _Refused(f"YAML nested more than {limit} levels deep", event.start_mark.line + 1)
        elif isinstance(event, ends):
            depth -= 1


def parse_yaml(text: str, source: str):
    """Parse one YAML document; any problem is a one-line SpecError."""
    try:
        _check_nesting(text)
        loader = _Loader(text)
        try:
            return loader.get_single_data()
        finally:
            loader.dispose()
    except _Refused as exc:
        raise SpecError(source, "", str(exc), exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise SpecError(source, "", f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise SpecError(source, "", f"invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise SpecError(source, "", "invalid YAML: nested too deeply") from None
