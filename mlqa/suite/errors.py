"""SuiteError: a problem in a suite file, at file:line:column."""

from __future__ import annotations

from collections.abc import Sequence

from mlqa.errors import InputError


class SuiteError(InputError):
    """A suite file that cannot be used. ``problems`` are ``(line, column, text)``, 1-based,
    in file order; ``str()`` gives one ``file:line:column: text`` line per problem."""

    def __init__(self, file: str, problems: Sequence[tuple[int, int, str]]):
        self.file = file
        self.problems = sorted(dict.fromkeys(problems), key=lambda p: (p[0], p[1]))
        self.line, self.column = self.problems[0][0], self.problems[0][1]
        super().__init__("\n".join(f"{file}:{line}:{col}: {text}"
                                   for line, col, text in self.problems))


SuiteError.__module__ = "mlqa.suite"

