"""The named errors raised at the public boundary of :mod:`theory`.

Every error is a :class:`ValueError` subclass whose message names the offending entry and the
condition it violates (for example ``"P[0, 2] + P[2, 0] = 7/6, expected 1"``).  Validation happens
before any work, so a call that raises has changed nothing.
"""

from __future__ import annotations

__all__ = [
    "TheoryError",
    "NotAProbabilityVectorError",
    "NotAPreferenceMatrixError",
    "ShapeMismatchError",
    "NonFiniteInputError",
    "NotIncreasingError",
    "UndefinedWinRateError",
    "InvalidParameterError",
    "NotBradleyTerryError",
    "SupportMismatchError",
    "NoMaximumLikelihoodError",
    "NotANumberError",
    "UndefinedEvaluationError",
    "BradleyTerryPrecisionError",
    "Float64RangeError",
    "NotAMarginLossError",
    "NonFiniteLossError",
    "NaNLossError",
    "NoFixedPointError",
    "NotConvergedError",
]


class TheoryError(ValueError):
    """Base class of every input error raised by :mod:`theory`."""


class NotAProbabilityVectorError(TheoryError):
    """An array that should be a probability vector (or a row-stochastic model) is not one."""


class NotAPreferenceMatrixError(TheoryError):
    """A matrix that should satisfy ``P + P^T = 1`` with entries in ``[0, 1]`` does not."""


class ShapeMismatchError(TheoryError):
    """Arrays that travel together have incompatible shapes (or an array has the wrong rank)."""


class NonFiniteInputError(TheoryError):
    """An input contains NaN or an infinity."""


class NotIncreasingError(TheoryError):
    """A function used as ``h`` is not strictly increasing (or is NaN) on the probe grid."""


class UndefinedWinRateError(TheoryError):
    """An h-win rate would add ``+inf`` and ``-inf`` terms with positive mass (no defined value)."""


class InvalidParameterError(TheoryError):
    """A scalar parameter is out of its domain (``beta < 0``, ``K < 2``, a bad family name, ...)."""


class NotBradleyTerryError(TheoryError):
    """Rewards were requested from a preference matrix that is not Bradley-Terry."""


class SupportMismatchError(TheoryError):
    """A model puts mass where another must have some (absolute continuity fails)."""


class NotANumberError(TheoryError):
    """An input entry is not a number at all (a string, None, an arbitrary object)."""


class NoMaximumLikelihoodError(TheoryError):
    """The Bradley-Terry maximum likelihood estimate does not exist: some group of responses wins
    every comparison it has with the rest of its component of the comparison graph.

    ``graph`` is the :class:`~theory.bradley_terry.ComparisonGraph` and ``direction`` a reward
    direction along which the likelihood increases for ever.
    """

    def __init__(self, message: str, *, graph: object = None, direction: object = None) -> None:
        super().__init__(message)
        self.graph = graph
        self.direction = direction


class UndefinedEvaluationError(TheoryError):
    """An evaluation has no defined value on this input (a log of 0/0, a Bradley-Terry fit that
    does not exist, a model putting mass where the evaluation's reward is undefined)."""


class BradleyTerryPrecisionError(TheoryError):
    """The Bradley-Terry MLE exists but the fit did not meet its stopping rule within
    ``max_iter`` Newton steps: float64 cannot resolve the gradient at these weights (odds beyond
    about ``1e300``: the win probabilities underflow) or ``max_iter`` is too small.  The message
    names the instance, the response and the relative gradient reached."""


class Float64RangeError(TheoryError):
    """The answer is a finite number beyond float64's range (``|x| > 1.8e308``), e.g.
    ``beta KL`` or ``beta log pi_ref(top)`` with ``beta = 10**400``: raised instead of a
    silent ``inf``."""


class NotAMarginLossError(TheoryError):
    """A user's loss is not a function of the margin ``z`` alone (another free symbol, a callable
    that needs other arguments, returns the wrong shape or different values on the same ``z``)."""


class NonFiniteLossError(NonFiniteInputError):
    """A user's loss is infinite at some real margin ``z`` (a loss must be finite on the reals)."""


class NaNLossError(NotANumberError):
    """A user's loss returns NaN at some real margin ``z``."""


class NoFixedPointError(TheoryError):
    """A training dynamic has no fixed point on this input (for instance population GRPO when
    the reward is constant on the support of ``pi_ref``, so the group-normalized advantage is
    ``0 / 0``).  Raised instead of returning a model that is not a fixed point; the message says
    which condition fails (:mod:`theory.online`)."""


class NotConvergedError(TheoryError):
    """A fixed-point solver stopped (iteration cap, or no further progress) before its residual
    met the tolerance.
    ``result`` holds the last :class:`~theory.online.core.FixedPoint` (``converged=False``) so a
    caller can inspect how far it got (:mod:`theory.online`)."""

    def __init__(self, message: str, *, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class NotAThreeOutcomeModelError(TheoryError):
    """Tie data whose three outcomes of a pair (``i`` wins, ``j`` wins, tie) do not form a
    probability distribution (``win[i, j] + win[j, i] + tie[i, j] != 1``) or whose tie
    probabilities are not symmetric (``tie[i, j] != tie[j, i]``)."""


class NotARankingError(TheoryError):
    """A ranking that is not a list of distinct responses in ``0..K-1`` (a repeated or
    out-of-range response, lists of different lengths)."""
