"""One declarative table of keyword options per check, in the shape of scikit-learn's
``validate_params`` (``sklearn/utils/_param_validation.py``).

A table maps each option to the constraints it may satisfy (any one suffices: ``Interval(Real,
0, 1, closed="neither")``, ``Options("holm", "bh")``, ``None``...). The same table

* validates the Python call at the top of the check (:meth:`OptionTable.validate`), so the
  in-memory path and every engine path refuse a bad option with one message, before any data
  is read;
* renders each option as a JSON-Schema fragment (:meth:`Param.schema`), from which
  :mod:`mlqa.suite.spec` builds the YAML suite schema: the two can no longer disagree.

Rules that relate several options (``min`` <= ``max``, "needs a requirement", a bound inside a
metric's range) stay in the check: a table declares one option at a time.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from mlqa._text import did_you_mean
from mlqa.errors import InputError

JSON = dict[str, Any]


class Constraint:
    """One set of values an option may take; subclasses say which, in words and in schema."""

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def text(self) -> str:
        """What is allowed, for a message: ``a number in (0, 1)``."""
        raise NotImplementedError

    def schema(self) -> JSON:
        """The same set as a JSON-Schema fragment (the keywords :mod:`mlqa.suite.validate`
        interprets)."""
        raise NotImplementedError

    def refused(self) -> Any:
        """A value outside the set (the tests feed it to every check and to the YAML
        validator); None where every value of the JSON type is allowed."""
        return None


def _is_number(value: Any) -> bool:
    # numpy's scalars register with numbers.Real; a bool is an int to Python but never a
    # threshold a user meant
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


@dataclasses.dataclass(frozen=True)
class Interval(Constraint):
    """Numbers of ``type`` (``numbers.Integral`` or ``numbers.Real``) between ``left`` and
    ``right`` (None: unbounded); ``closed`` is ``"both"``, ``"left"``, ``"right"`` or
    ``"neither"``, as in scikit-learn. Real numbers must be finite."""

    type: type
    left: float | None = None
    right: float | None = None
    closed: str = "both"

    def __post_init__(self) -> None:
        if self.type not in (Integral, Real):
            raise TypeError("Interval type must be numbers.Integral or numbers.Real")
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither: {self.closed!r}")

    @property
    def _left_closed(self) -> bool:
        return self.closed in ("both", "left")

    @property
    def _right_closed(self) -> bool:
        return self.closed in ("both", "right")

    def accepts(self, value: Any) -> bool:
        if not _is_number(value) or (self.type is Integral and not isinstance(value, Integral)):
            return False
        x: float = int(value) if isinstance(value, Integral) else float(value)
        if not isinstance(value, Integral) and not math.isfinite(x):
            return False  # (an int of any size is finite; float() would overflow on one)
        if self.left is not None and (x < self.left if self._left_closed else x <= self.left):
            return False
        return self.right is None or (x <= self.right if self._right_closed
                                      else x < self.right)

    def text(self) -> str:
        kind = "an integer" if self.type is Integral else "a number"
        if self.left is None and self.right is None:
            return kind if self.type is Integral else "a finite number"
        if self.right is None:
            return f"{kind} {'>=' if self._left_closed else '>'} {self.left:g}"
        if self.left is None:
            return f"{kind} {'<=' if self._right_closed else '<'} {self.right:g}"
        left, right = "[" if self._left_closed else "(", "]" if self._right_closed else ")"
        return f"{kind} in {left}{self.left:g}, {self.right:g}{right}"

    def schema(self) -> JSON:
        out: JSON = {"type": "integer" if self.type is Integral else "number"}
        if self.left is not None:
            out["minimum" if self._left_closed else "exclusiveMinimum"] = self.left
        if self.right is not None:
            out["maximum" if self._right_closed else "exclusiveMaximum"] = self.right
        return out

    def refused(self) -> Any:
        if self.left is not None:
            return self.left - 1
        if self.right is not None:
            return self.right + 1
        return "text" if self.type is Integral else math.nan


# the intervals most options use
LEVEL = Interval(Real, 0, 1, closed="neither")  # a confidence or significance level
SHARE = Interval(Real, 0, 1)  # a share of rows
POSITIVE = Interval(Real, 0, None, closed="neither")  # milliseconds, seconds, a rate
NUMBER = Interval(Real)  # any finite number
NON_NEGATIVE = Interval(Real, 0)  # an effect size, a drop allowed, seconds of warm-up
ROWS = Interval(Integral, 0, None, closed="left")  # a number of rows


def at_least(minimum: int) -> Interval:
    """An integer of at least ``minimum``."""
    return Interval(Integral, minimum, None, closed="left")


@dataclasses.dataclass(frozen=True, init=False)
class Options(Constraint):
    """One of a fixed set of values (scikit-learn's ``StrOptions``; any JSON scalar here)."""

    values: tuple[Any, ...]

    def __init__(self, *values: Any) -> None:
        object.__setattr__(self, "values", values)

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str | int | float) and not isinstance(value, bool) and \
            value in self.values

    def text(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def schema(self) -> JSON:
        return {"enum": list(self.values)}

    def refused(self) -> Any:
        return "not-" + "-".join(str(v) for v in self.values)


@dataclasses.dataclass(frozen=True)
class _NoneConstraint(Constraint):
    def accepts(self, value: Any) -> bool:
        return value is None

    def text(self) -> str:
        return "None"

    def schema(self) -> JSON:
        return {"type": "null"}


@dataclasses.dataclass(frozen=True)
class Boolean(Constraint):
    """True or False (numpy's bool too)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool | np.bool_)

    def text(self) -> str:
        return "True or False"

    def schema(self) -> JSON:
        return {"type": "boolean"}

    def refused(self) -> Any:
        return "yes"


@dataclasses.dataclass(frozen=True)
class Text(Constraint):
    """A string (a column name, a device, a URL)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str)

    def text(self) -> str:
        return "a string"

    def schema(self) -> JSON:
        return {"type": "string"}

    def refused(self) -> Any:
        return 1


@dataclasses.dataclass(frozen=True)
class FilePath(Text):
    """A path: a string or an ``os.PathLike`` (a suite writes it as a string)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, str | os.PathLike)

    def text(self) -> str:
        return "a path"


@dataclasses.dataclass(frozen=True)
class ListOf(Constraint):
    """A list or tuple (never a string) whose items all satisfy ``item``."""

    item: Constraint
    min_items: int = 0

    def accepts(self, value: Any) -> bool:
        # a list, a tuple, a numpy array or a pandas Index: sized and iterable, not text
        if isinstance(value, str | bytes | Mapping) or not hasattr(value, "__iter__"):
            return False
        if not hasattr(value, "__len__"):
            return True  # an iterator: reading it here would leave the check nothing
        try:  # a 0-d numpy array has __len__ and refuses it
            items = list(value)
        except TypeError:
            return False
        return len(items) >= self.min_items and all(self.item.accepts(v) for v in items)

    def text(self) -> str:
        some = "a non-empty list" if self.min_items else "a list"
        return f"{some} of {_plural(self.item.text())}"

    def schema(self) -> JSON:
        out: JSON = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            out["minItems"] = self.min_items
        return out

    def refused(self) -> Any:
        bad = self.item.refused()
        return [bad] if bad is not None else "text"


@dataclasses.dataclass(frozen=True)
class MappingOf(Constraint):
    """A mapping (column or batch size -> value) whose values all satisfy ``value``."""

    value: Constraint
    key: str = "column"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, Mapping) and all(self.value.accepts(v) for v in value.values())

    def text(self) -> str:
        return f"a mapping {self.key} -> {self.value.text()}"

    def schema(self) -> JSON:
        return {"type": "object", "additionalProperties": self.value.schema()}

    def refused(self) -> Any:
        bad = self.value.refused()
        return {"a": bad} if bad is not None else None


@dataclasses.dataclass(frozen=True)
class Anything(Constraint):
    """Any value (the items of a list of allowed categories)."""

    def accepts(self, value: Any) -> bool:
        return True

    def text(self) -> str:
        return "a value"

    def schema(self) -> JSON:
        return {}


@dataclasses.dataclass(frozen=True)
class InstanceOf(Constraint):
    """Python-only values (a numpy Generator, a callable metric): no schema of their own."""

    types: tuple[type, ...]
    described: str

    def accepts(self, value: Any) -> bool:
        return isinstance(value, self.types)

    def text(self) -> str:
        return self.described

    def schema(self) -> JSON:
        raise TypeError(f"{self.described} has no JSON-Schema form; mark the option "
                        f"suite=False")


def seeds() -> list[Any]:
    """The seeds numpy accepts and users pass: an int, None or a numpy Generator."""
    return [Interval(Integral), None, InstanceOf((np.random.Generator,), "a numpy Generator")]


def _plural(text: str) -> str:
    for article in ("an ", "a "):
        if text.startswith(article):
            head, _, rest = text[len(article):].partition(" ")
            return f"{head}s {rest}".strip()
    return text


def _constraint(c: Any) -> Constraint:
    if c is None:
        return _NoneConstraint()
    if isinstance(c, Constraint):
        return c
    raise TypeError(f"unknown constraint {c!r}")


@dataclasses.dataclass(frozen=True)
class Param:
    """One option: the constraints it may satisfy (any one), whether a YAML suite may set it
    (``suite``), a ``hint`` added to the refusal (what to use instead) and a ``doc`` line for
    the schema."""

    constraints: tuple[Constraint, ...]
    suite: bool = True
    hint: str = ""
    doc: str = ""  # the schema's description (what an editor shows beside the key)

    def accepts(self, value: Any) -> bool:
        return any(c.accepts(value) for c in self.constraints)

    def text(self) -> str:
        parts = [c.text() for c in self.constraints]
        # an enum with None reads as one list: "one of 'holm', 'bh' or None"
        return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]

    def refusal(self, name: str, value: Any) -> InputError:
        """The InputError for ``name=value``: the option, what is allowed, what was given (for
        a mapping, the entry that is wrong: ``max_share['a'] must be ...``)."""
        maps = [c for c in self.constraints if isinstance(c, MappingOf)]
        if isinstance(value, Mapping) and len(maps) == 1:
            for key, item in value.items():
                if not maps[0].value.accepts(item):
                    return Param((maps[0].value,), hint=self.hint).refusal(
                        f"{name}[{key!r}]", item)
        choices = [v for c in self.constraints if isinstance(c, Options) for v in c.values]
        near = did_you_mean(value, choices) if isinstance(value, str) and choices else ""
        hint = f"; {self.hint}" if self.hint else ""
        return InputError(f"{name} must be {self.text()}, got {value!r}{near}{hint}")

    def schema(self) -> JSON:
        """The JSON-Schema fragment: one constraint as is, an enum and None as one enum,
        several as ``anyOf``."""
        cs = self.constraints
        enums = [c for c in cs if isinstance(c, Options)]
        nones = [c for c in cs if isinstance(c, _NoneConstraint)]
        if enums and len(enums) + len(nones) == len(cs):
            out: JSON = {"enum": [v for c in enums for v in c.values] + [None] * bool(nones)}
        elif len(cs) == 1:
            out = cs[0].schema()
        else:
            out = {"anyOf": [c.schema() for c in cs]}
        return {**out, "description": self.doc} if self.doc else out

    def refused(self) -> Any:
        """A value no constraint accepts (for the tests), or None where none is found."""
        for c in self.constraints:
            bad = c.refused()
            if bad is not None and not self.accepts(bad):
                return bad
        return None


def param(*constraints: Any, suite: bool = True, hint: str = "", doc: str = "") -> Param:
    """An option allowed to satisfy any of ``constraints`` (None for the value None)."""
    return Param(tuple(_constraint(c) for c in constraints), suite=suite, hint=hint, doc=doc)


@dataclasses.dataclass(frozen=True)
class OptionTable:
    """The keyword options of the check ``caller``, declared once."""

    caller: str
    params: Mapping[str, Param]

    def validate(self, values: Mapping[str, Any]) -> None:
        """InputError for the first option in ``values`` that its constraints refuse; names
        not in the table (the check's data arguments) are left to the check."""
        for name, p in self.params.items():
            if name in values and not p.accepts(values[name]):
                raise p.refusal(name, values[name])

    def suite_names(self) -> list[str]:
        """The options a YAML suite may set, in the table's order."""
        return [n for n, p in self.params.items() if p.suite]

    def suite_options(self, names: Iterable[str] | None = None) -> dict[str, JSON]:
        """The JSON-Schema fragment of each option a suite may set (``names``: those only)."""
        chosen = self.suite_names() if names is None else names
        return {n: self.params[n].schema() for n in chosen}
