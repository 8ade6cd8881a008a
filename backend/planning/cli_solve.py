"""`fieldbook route solve FILE.json`: read a planning problem, solve it, print the solution (docs/planning.md).

Errors are one line on stderr (`fieldbook: error: jobs[3].location: ...`) and exit code 2, as for any bad input
to the `fieldbook` command.
"""

from __future__ import annotations

import sys
from typing import TextIO

import msgspec

from backend.planning.matrix import estimate_matrices
from backend.planning.problem import Problem
from backend.planning.solve import solve


class BadProblem(Exception):
    """The input is not a problem we can solve; the message names the field."""


def _field(error: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int`, got `str` - at `$.jobs[0].location`" as "jobs[0].location: Expected ..."."""
    message = str(error)
    head, marker, path = message.rpartition(" - at `$")
    if not marker:
        return message
    path = path.rstrip("`").lstrip(".")
    return f"{path}: {head}" if path else head


def read_problem(raw: bytes) -> Problem:
    """The problem in `raw` JSON, with travel matrices estimated from `locations` when `durations` is missing.
    BadProblem names what is wrong."""
    try:
        problem = msgspec.json.decode(raw, type=Problem)
    except msgspec.ValidationError as error:
        raise BadProblem(_field(error)) from None
    except msgspec.DecodeError as error:
        raise BadProblem(f"not valid JSON: {error}") from None
    if problem.durations is None and problem.locations:
        try:
            durations, distances = estimate_matrices(problem.locations)
        except ValueError as error:
            raise BadProblem(f"locations: {error}") from None
        problem = msgspec.structs.replace(problem, durations=durations, distances=distances)
    return problem


def run(path_or_dash: str, out: TextIO) -> int:
    """Solve the problem in the JSON file (or stdin for "-") and print the solution to `out` as JSON indented
    by 2; return the exit code: 0, or 2 with one line on stderr when the input is unreadable or unsolvable."""
    try:
        if path_or_dash == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(path_or_dash, "rb") as file:
                raw = file.read()
        problem = read_problem(raw)
        solution = solve(problem)
    except OSError as error:
        return _fail(f"cannot read {path_or_dash}: {error.strerror or error}")
    except (BadProblem, ValueError) as error:
        return _fail(str(error))
    out.write(msgspec.json.format(msgspec.json.encode(solution), indent=2).decode())
    out.write("\n")
    return 0


def _fail(message: str) -> int:
    print(f"fieldbook: error: {message}", file=sys.stderr)
    return 2
