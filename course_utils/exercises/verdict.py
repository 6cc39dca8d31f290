"""What every check of ``course_utils.exercises`` shares: the verdict, safe calls, comparisons.

A check never raises because of the student's answer. It prints one line and returns a
``Verdict``:

* ``correct: ...``  -- the answer agrees with the checker's own reference on the checker's own
  random inputs (drawn from a local ``torch.Generator``; the global random state is untouched);
* ``not yet: ...``  -- the answer is still the placeholder (``...``, ``None``, a function whose
  body is ``...`` or that raises ``NotImplementedError``);
* ``wrong: ...``    -- what is wrong: a shape (transposed?), a sign, a missing factor or term,
  by how much; or the exception the student's code raised (type and message, one line).

``COURSE_EXERCISES_EXPECT`` (CI only): when set to ``correct`` or ``not yet``, a check whose
verdict differs raises ``AssertionError``, so that ``make test`` fails if a solution cell of the
full edition stops passing or a placeholder of the student edition stops reporting "not yet".
Students never set it; unset, checks only print.
"""
from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

__all__ = [
    "CORRECT", "WRONG", "NOT_YET", "EXPECT_ENV", "Verdict", "StudentError", "NotYet",
    "checker", "call", "call_elementwise", "is_placeholder", "as_tensor", "compare", "close_number",
    "describe_exception", "generator", "pair",
]

CORRECT, WRONG, NOT_YET = "correct", "wrong", "not yet"
EXPECT_ENV = "COURSE_EXERCISES_EXPECT"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check: ``status`` is ``"correct"``, ``"wrong"`` or ``"not yet"``."""

    exercise: str
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == CORRECT

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        return f"{self.status}: {self.exercise}" + (f" -- {self.message}" if self.message else "")


class NotYet(Exception):
    """Raised inside a checker when the answer is still the placeholder."""


class StudentError(Exception):
    """The student's code raised: carries a one-line description of that exception."""


def describe_exception(err: BaseException) -> str:
    text = " ".join(str(err).split())
    if len(text) > 200:
        text = text[:197] + "..."
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def is_placeholder(value: Any) -> bool:
    """``...`` or ``None``: what an answer is before the student writes it."""
    return value is None or value is Ellipsis


def call(fn: Any, *args: Any, what: str = "your function", hints: Mapping[str, str] | None = None,
         **kwargs: Any) -> Any:
    """Call the student's ``fn``; its exceptions become ``StudentError`` (or ``NotYet``).

    ``hints`` maps a piece of an exception's message to advice appended to the verdict (e.g.
    "must match the size" -> "reshape ... so that it broadcasts").

    The global random state (CPU) is saved and restored around the call, so a student's (or a
    solution's) use of torch's global generator, e.g. to initialise a layer, does not change the
    cells that follow.
    """
    if is_placeholder(fn):
        raise NotYet(f"{what} is still `...`: write it in the cell above")
    if not callable(fn):
        raise StudentError(f"{what} should be a function, got a {type(fn).__name__}")
    try:
        with torch.random.fork_rng(devices=[]):
            result = fn(*args, **kwargs)
    except NotImplementedError as err:
        raise NotYet(f"{what} raises NotImplementedError") from err
    except Exception as err:  # noqa: BLE001 -- whatever the student's code raises is reported
        advice = [h for key, h in (hints or {}).items() if key in str(err)]
        message = f"{what} raised {describe_exception(err)}" + (f" ({advice[0]})" if advice else "")
        raise StudentError(message) from err
    if is_placeholder(result):
        raise NotYet(f"{what} returns {result!r}: replace the `...` by your code")
    return result


def call_elementwise(fn: Any, *columns: torch.Tensor,
                     what: str = "your function") -> tuple[torch.Tensor, str]:
    """``fn`` on tensors of equal length; if that raises, on one set of Python floats at a time.

    Returns the results as a float64 tensor and a note ("" when ``fn`` works on tensors): a
    formula written with ``math.log`` is still right, it just does not work on whole tensors.
    """
    try:
        return as_tensor(call(fn, *(c.clone() for c in columns), what=what), what), ""
    except StudentError as tensor_error:
        try:
            values = [call(fn, *(float(c[i]) for c in columns), what=what)
                      for i in range(len(columns[0]))]
        except StudentError:
            raise tensor_error from None
        out = torch.stack([as_tensor(v, what).reshape(()) for v in values])
        return out, (" (it works on single numbers only; with torch.log etc. instead of math it "
                     "would also work on whole tensors)")


def generator(seed: int) -> torch.Generator:
    """A local CPU generator: a checker's random inputs never touch the global random state."""
    return torch.Generator().manual_seed(seed)


def _expectation(verdict: Verdict) -> None:
    expected = os.environ.get(EXPECT_ENV, "").strip().lower()
    if expected and expected != verdict.status:
        raise AssertionError(f"{EXPECT_ENV}={expected!r}, but the check said: {verdict}")


def checker(exercise: str) -> Callable[[Callable[..., str]], Callable[..., Verdict]]:
    """Decorate ``check(*answers) -> message``: the body raises ``NotYet``, ``StudentError`` or
    ``AssertionError`` (a wrong answer, with its message) or returns the "correct" message."""

    def decorate(body: Callable[..., str]) -> Callable[..., Verdict]:
        @functools.wraps(body)
        def check(*args: Any, **kwargs: Any) -> Verdict:
            try:
                verdict = Verdict(exercise, CORRECT, body(*args, **kwargs) or "")
            except NotYet as err:
                verdict = Verdict(exercise, NOT_YET, str(err))
            except (StudentError, AssertionError) as err:
                verdict = Verdict(exercise, WRONG, str(err))
            except Exception as err:  # noqa: BLE001 -- e.g. an answer of a surprising type
                verdict = Verdict(exercise, WRONG,
                                  f"could not check the answer: {describe_exception(err)}")
            # one line
            verdict = Verdict(verdict.exercise, verdict.status, " ".join(verdict.message.split()))
            print(verdict)
            _expectation(verdict)
            return verdict

        check.exercise = exercise  # type: ignore[attr-defined]
        return check

    return decorate


def as_tensor(value: Any, what: str = "your answer") -> torch.Tensor:
    """The answer as a float64 CPU tensor (numbers, lists, NumPy arrays and tensors)."""
    if is_placeholder(value):
        raise NotYet(f"{what} is still {value!r}")
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", torch.float64)
    try:
        return torch.as_tensor(value, dtype=torch.float64)
    except Exception as err:  # noqa: BLE001
        raise StudentError(f"{what} should be a number or a tensor, got a "
                           f"{type(value).__name__}") from err


def pair(got: Any, what: str, names: str) -> tuple[Any, Any]:
    """The two parts of an answer that should be a pair; ``names`` says which ("x, log_det")."""
    if not isinstance(got, Sequence) or isinstance(got, str) or len(got) != 2:
        raise StudentError(f"{what} should return two tensors ({names}), got {type(got).__name__}")
    return got[0], got[1]


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(torch.allclose(a, b, rtol=rtol, atol=atol, equal_nan=False))


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def compare(got: Any, want: torch.Tensor, what: str = "your answer", *,
            mistakes: Mapping[str, torch.Tensor] | None = None, rtol: float = 1e-5,
            atol: float = 1e-6) -> None:
    """Raise ``AssertionError`` saying what is wrong unless ``got`` matches ``want``.

    ``mistakes`` maps a description ("you used the variance ...") to what that mistake gives on
    the same inputs; a match names the mistake. Otherwise the message says whether ``got`` is
    transposed, has the wrong shape, the wrong sign, a constant factor or offset, and by how much
    it is off.
    """
    g = as_tensor(got, what)
    w = want.detach().to("cpu", torch.float64)
    if not bool(torch.isfinite(g).all()):
        raise AssertionError(f"{what} contains NaN or inf ({int((~torch.isfinite(g)).sum())} of "
                             f"{g.numel()} values)")
    if g.shape != w.shape:
        if g.numel() == w.numel() and g.dim() >= 2 and w.dim() >= 2:
            if g.dim() == 2 and _close(g.T, w, rtol, atol):
                raise AssertionError(f"{what} is transposed: shape {tuple(g.shape)}, expected "
                                     f"{tuple(w.shape)}")
            if _close(g.reshape(w.shape), w, rtol, atol):
                raise AssertionError(f"{what} has the right values but shape {tuple(g.shape)}, "
                                     f"expected {tuple(w.shape)}")
        if g.numel() == w.numel() and _close(g.reshape(w.shape), w, rtol, atol):
            raise AssertionError(f"{what} has the right values but shape {tuple(g.shape)}, "
                                 f"expected {tuple(w.shape)}")
        if g.dim() == 0 and w.dim() > 0 and w.numel() > 1:
            raise AssertionError(f"{what} is a single number, expected one value per input: shape "
                                 f"{tuple(w.shape)} (did you sum or average over everything?)")
        raise AssertionError(f"{what} has shape {tuple(g.shape)}, expected {tuple(w.shape)}")
    if _close(g, w, rtol, atol):
        return
    for description, value in (mistakes or {}).items():
        if _close(g, value.detach().to("cpu", torch.float64), rtol, atol):
            raise AssertionError(f"{what}: {description}")
    err = (g - w).abs()
    worst = int(err.reshape(-1).argmax())
    detail = (f"off by up to {_fmt(float(err.max()))} (e.g. {_fmt(float(g.reshape(-1)[worst]))} "
              f"where {_fmt(float(w.reshape(-1)[worst]))} is right)")
    if w.numel() and _close(-g, w, rtol, atol):
        raise AssertionError(f"{what} has the wrong sign (it is minus the right answer)")
    nonzero = w.abs() > 1e-12
    if bool(nonzero.all()):
        ratio = (g / w).reshape(-1)
        r = float(ratio.mean())
        if float((ratio - r).abs().max()) < 1e-6 * max(1.0, abs(r)):
            hint = {2.0: " (a factor 2 too many?)", 0.5: " (a missing factor 2, or an extra 1/2?)",
                    -1.0: " (the wrong sign)"}.get(round(r, 6), "")
            raise AssertionError(f"{what} is {_fmt(r)} times the right answer{hint}")
    offset = (g - w).reshape(-1)
    c = float(offset.mean())
    if w.numel() > 1 and float((offset - c).abs().max()) < 1e-6 * max(1.0, abs(c)):
        hint = {0.5: " (a missing -1/2?)", -0.5: " (an extra -1/2?)", 1.0: " (a missing -1?)",
                -1.0: " (an extra -1?)"}.get(round(c, 6), "")
        raise AssertionError(f"{what} is off by a constant {_fmt(c)}{hint}")
    raise AssertionError(f"{what} is {detail}")


def close_number(got: Any, want: float, what: str, rtol: float = 1e-6, atol: float = 1e-9) -> float:
    """A single number: return it as a float, or raise ``AssertionError`` saying how far off."""
    g = as_tensor(got, what)
    if g.numel() != 1:
        raise AssertionError(f"{what} should be a single number, got shape {tuple(g.shape)}")
    value = float(g.reshape(()))
    if not math.isfinite(value):
        raise AssertionError(f"{what} is {value}")
    if abs(value - want) > atol + rtol * abs(want):
        if want != 0 and abs(value + want) <= atol + rtol * abs(want):
            raise AssertionError(f"{what} = {_fmt(value)} has the wrong sign (expected "
                                 f"{_fmt(want)})")
        ratio = f", {_fmt(value / want)} times the right value" if want else ""
        raise AssertionError(f"{what} = {_fmt(value)}, expected {_fmt(want)} (off by "
                             f"{_fmt(value - want)}{ratio})")
    return value
