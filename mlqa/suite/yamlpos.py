"""YAML with positions: plain Python values plus where each key and value starts.

PyYAML's composer keeps a mark on every node; reading the node tree ourselves (instead of
``yaml.safe_load``) lets every later error name file:line:column, and refuses what safe_load
would let through silently: a key given twice (the second would override the first).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlqa.suite.errors import SuiteError

Path = tuple[Any, ...]


@dataclasses.dataclass
class Document:
    """One YAML document: ``value`` and the 1-based (line, column) of every value (``at``) and
    mapping key (``key_at``), addressed by the path of keys and list indexes leading to it."""

    value: Any
    at: dict[Path, tuple[int, int]]
    key_at: dict[Path, tuple[int, int]]

    def where(self, path: Path, *, key: bool = False) -> tuple[int, int]:
        """The position of ``path`` (its key when ``key`` and it has one), else of the nearest
        enclosing value."""
        if key and path in self.key_at:
            return self.key_at[path]
        while path not in self.at and path:
            path = path[:-1]
        return self.at.get(path, (1, 1))


def load_documents(text: str, file: str) -> list[Document]:
    """Every document of ``text`` (a ``---``-separated stream); a SuiteError on bad YAML."""
    import yaml

    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise SuiteError(file, [(line, col, f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise SuiteError(file, [(1, 1, f"not valid YAML: {exc}")]) from None
    docs = []
    constructor = yaml.constructor.SafeConstructor()
    for node in nodes:
        if node is None:
            continue
        doc = Document(None, {}, {})
        problems: list[tuple[int, int, str]] = []
        doc.value = _convert(node, (), doc, constructor, problems)
        if problems:
            raise SuiteError(file, problems)
        docs.append(doc)
    return docs


def _pos(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _convert(node: Any, path: Path, doc: Document, constructor: Any,
             problems: list[tuple[int, int, str]]) -> Any:
    import yaml

    doc.at[path] = _pos(node)
    if isinstance(node, yaml.ScalarNode):
        try:
            return constructor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            problems.append((*_pos(node), f"unreadable value: {exc.problem}"))
            return None
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, (*path, i), doc, constructor, problems)
                for i, item in enumerate(node.value)]
    out: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append((*_pos(key_node), "a key must be a plain word, not a list or "
                                              "mapping"))
            continue
        key = constructor.construct_object(key_node, deep=True)
        key = key if isinstance(key, str) else str(key)
        if key in out:
            first = doc.key_at[(*path, key)][0]
            problems.append((*_pos(key_node), f"duplicate key {key!r} (first given at line "
                                              f"{first}; the second would silently win)"))
            continue
        doc.key_at[(*path, key)] = _pos(key_node)
        out[key] = _convert(value_node, (*path, key), doc, constructor, problems)
    return out
