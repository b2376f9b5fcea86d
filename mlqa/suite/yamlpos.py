"""YAML with positions: plain Python values plus where each key and value starts.

PyYAML's composer keeps a mark on every node; reading the node tree ourselves (instead of
``yaml.safe_load``) lets every later error name file:line:column, and refuses what safe_load
would let through silently: a key given twice (the second would override the first).

A suite is small and written by hand, so its size is bounded before anything is built from it:
``MAX_BYTES`` of text, ``MAX_DEPTH`` levels of nesting, ``MAX_ALIASES`` aliases (``*name``)
and ``MAX_NODES`` values, as written and once every alias is expanded. An alias bomb (nine
anchors of nine aliases each: 9**9 values from 351 bytes) is refused from the node graph, in
milliseconds and without expanding anything; an alias to the node that contains it
(``a: &a [*a]``) is refused by name rather than recursing until Python gives up.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from mlqa.suite.errors import SuiteError

Path = tuple[Any, ...]

# PyYAML's own parser, not libyaml's: a C extension keeps the classes of the first import of
# yaml, which pytester's in-process runs drop and import again (isinstance and except clauses
# would then miss). It reads a few MB a second, so the byte limit bounds the time too.
MAX_BYTES = 512_000  # a hand-written suite is a few kB; `mlqa init` on 1,000 columns 53 kB
MAX_DEPTH = 32  # a suite nests 5 levels (checks -> check -> ranges -> column -> min)
MAX_ALIASES = 1_000
MAX_NODES = 20_000  # values, after expanding aliases (`mlqa init` on 1,000 columns: 7,075)
# Tags a collection may carry: the plain ones (a tagged scalar is refused by the constructor).
_PLAIN_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


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

    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise SuiteError(file, [(1, 1, f"is {size:,} bytes; a suite may hold at most "
                                       f"{MAX_BYTES:,} (split it into several files)")])
    try:
        replay = _replay_class()(_bounded(text, file))
        nodes = []
        while replay.check_node():
            nodes.append(replay.get_node())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise SuiteError(file, [(line, col, f"not valid YAML: {exc.problem or exc}")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ...)
        raise _unreadable(text, exc, file) from None
    except yaml.YAMLError as exc:
        raise SuiteError(file, [(1, 1, f"not valid YAML: {' '.join(str(exc).split())}")]) \
            from None
    docs = []
    constructor = yaml.constructor.SafeConstructor()
    for node in nodes:
        if node is None:
            continue
        doc = Document(None, {}, {})
        problems: list[tuple[int, int, str]] = []
        too_big = _expanded(node)
        if too_big is not None:
            raise SuiteError(file, [too_big])
        doc.value = _Converter(doc, constructor, problems).convert(node, ())
        if problems:
            raise SuiteError(file, problems)
        docs.append(doc)
    return docs


def _unreadable(text: str, exc: Any, file: str) -> SuiteError:
    """The error for a character YAML refuses, at its line and column."""
    before = text[:exc.position]
    line, col = before.count("\n") + 1, exc.position - before.rfind("\n")
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return SuiteError(file, [(line, col, f"not valid YAML: the character {char!r} is not "
                                         f"allowed ({exc.reason})")])


def _bounded(text: str, file: str) -> list[Any]:
    """Refuse a stream nested deeper than ``MAX_DEPTH``, holding more than ``MAX_ALIASES``
    aliases or more than ``MAX_NODES`` values, from its parser events (the parser keeps an
    explicit stack: no recursion, no node built yet, so a hostile file costs one pass over
    its text)."""
    import yaml

    depth = aliases = values = 0
    events = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        events.append(event)
        if isinstance(event, yaml.NodeEvent) and not isinstance(event, yaml.AliasEvent):
            values += 1
            if values > MAX_NODES:
                raise SuiteError(file, [(*_pos(event), f"holds more than {MAX_NODES:,} values "
                                                       f"(the limit of a suite)")])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise SuiteError(file, [(*_pos(event), f"is nested more than {MAX_DEPTH} "
                                                       f"levels deep (the limit of a suite)")])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise SuiteError(file, [(*_pos(event), f"uses more than {MAX_ALIASES:,} "
                                                       f"aliases (the limit of a suite)")])
    return events


def _replay_class() -> Any:
    """Made at each load, not cached: pytester's in-process runs may import yaml afresh, and
    a composer of the old module would not know the new module's events."""
    import yaml

    class Replay(yaml.composer.Composer, yaml.resolver.Resolver):
        """PyYAML's composer fed the events ``_bounded`` already parsed (parsing is most of
        the cost of a large file: done once)."""

        def __init__(self, events: list[Any]):
            yaml.composer.Composer.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.events, self.next = events, 0

        def check_event(self, *choices: Any) -> bool:
            if self.next >= len(self.events):
                return False
            return not choices or isinstance(self.events[self.next], choices)

        def peek_event(self) -> Any:
            return self.events[self.next]

        def get_event(self) -> Any:
            self.next += 1
            return self.events[self.next - 1]

    return Replay


def _pos(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar(node: Any, constructor: Any, problems: list[tuple[int, int, str]]) -> Any:
    """A scalar's value, or None and a problem: a tag the safe constructor refuses
    (``!!python/object/apply:...``), or a value it cannot build (``2020-13-45``, an integer
    of more digits than Python converts)."""
    import yaml

    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append((*_pos(node), f"unreadable value: {exc.problem}"))
    except (ValueError, OverflowError) as exc:
        # the first clause only: Python's advice (sys.set_int_max_str_digits) is not the
        # suite author's to take
        problems.append((*_pos(node), f"unreadable value {node.value[:40]!r}: "
                                      f"{str(exc).split(';')[0]}"))
    except Exception:  # noqa: BLE001 - PyYAML's safe constructors fail in other ways too
        # (an explicit !!timestamp on text that is not one: AttributeError)
        problems.append((*_pos(node), f"unreadable value {node.value[:40]!r}"
                                      f"{f' tagged {node.tag!r}' if node.tag else ''}"))
    return None


def _expanded(root: Any) -> tuple[int, int, str] | None:
    """Where and how ``root``, once its aliases are expanded, breaks ``MAX_NODES`` or
    ``MAX_DEPTH`` or loops (an alias inside the value it names); None when it does not.
    Computed on the node graph, each distinct node once and iteratively: a shared node is
    counted as often as it is used without being visited again."""
    import yaml

    done: dict[int, tuple[int, int]] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in done:
            continue
        if isinstance(node, yaml.ScalarNode):
            done[key] = (1, 0)
            continue
        children = [c for pair in node.value for c in pair] \
            if isinstance(node, yaml.MappingNode) else list(node.value)
        if children_done:
            on_path.discard(key)
            size = 1 + sum(done[id(c)][0] for c in children)
            depth = 1 + max((done[id(c)][1] for c in children), default=0)
            if size > MAX_NODES:
                return (*_pos(node), f"expands to more than {MAX_NODES:,} values (through "
                                     f"its aliases; the limit of a suite)")
            if depth > MAX_DEPTH:
                return (*_pos(node), f"is nested more than {MAX_DEPTH} levels deep (through "
                                     f"its aliases; the limit of a suite)")
            done[key] = (size, depth)
            continue
        on_path.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in on_path:
                return (*_pos(child), "an alias refers to a value that contains it (a "
                                      "recursive anchor): it would never end")
            if id(child) not in done:
                stack.append((child, False))
    return None


class _Converter:
    """Nodes to plain values, every alias expanded (each expansion gets the positions of
    its own path); ``_expanded`` has bounded what that costs."""

    def __init__(self, doc: Document, constructor: Any, problems: list[tuple[int, int, str]]):
        self.doc, self.constructor, self.problems = doc, constructor, problems

    def convert(self, node: Any, path: Path) -> Any:
        import yaml

        self.doc.at[path] = _pos(node)
        if isinstance(node, yaml.ScalarNode):
            return _scalar(node, self.constructor, self.problems)
        if node.tag not in _PLAIN_TAGS:
            self.problems.append((*_pos(node), f"unreadable value: a {node.id} tagged "
                                               f"{node.tag!r} (only plain mappings and lists)"))
            return None
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._mapping(node, path)

    def _mapping(self, node: Any, path: Path) -> dict[Any, Any]:
        import yaml

        doc, problems = self.doc, self.problems
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append((*_pos(key_node), "a key must be a plain word, not a list or "
                                                  "mapping"))
                continue
            before = len(problems)
            key = _scalar(key_node, self.constructor, problems)
            if len(problems) > before:
                continue
            key = key if isinstance(key, str) else str(key)
            if key in out:
                first = doc.key_at[(*path, key)][0]
                problems.append((*_pos(key_node), f"duplicate key {key!r} (first given at "
                                                  f"line {first}; the second would silently "
                                                  f"win)"))
                continue
            doc.key_at[(*path, key)] = _pos(key_node)
            out[key] = self.convert(value_node, (*path, key))
        return out
