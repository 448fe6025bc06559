"""A preference loss as data: :class:`PairwiseLoss`, and a user's loss read from a callable or a
sympy expression (:func:`margin_loss`).

The population loss of a model ``pi`` on ``D = (rho, mu0, mu1, P)`` (docs/zoo.md, docs/theory.md
"Definitions: DPO" for the setting) is, with ``w[x, i, j] = Pr(x, y_w = i, y_l = j)``
(:func:`theory.winner_loser_distribution`, self-pairs ``i = j`` included) and the winner and
loser marginals ``p_w(x, y) = sum_j w[x, y, j]``, ``p_l(x, y) = sum_i w[x, i, y]``,

    L(pi) = sum_x [ sum_{i, j} w[x, i, j] f(u_x(i) - u_x(j))
                    + sum_y p_w(x, y) g_w(u_x(y)) + p_l(x, y) g_l(u_x(y)) ],

where the *score* ``u`` is ``beta (log pi - log pi_ref)`` (``score="log_ratio"``, the DPO
family), ``beta log pi`` (``"log_prob"``, reference-free: SimPO with one-token responses) or the
log-odds ``log pi - log(1 - pi)`` (``"log_odds"``, ORPO), so that ``z = u(y_w) - u(y_l)`` is the
margin.  ``f`` is the per-pair loss, ``g_w`` and ``g_l`` optional separable per-response terms
(NCA, BCO, APO, SPPO-hard, ORPO's likelihood term; they may also read ``log pi``).  With
``shift=True`` (BCO) the separable terms see ``u - delta_x`` and the shift ``delta_x`` of each
prompt is minimized out (our formalization of BCO's running-mean shift, docs/zoo.md).

Each formula is written once against an ops namespace (:mod:`theory.zoo.ops`), so the same
definition is evaluated in floats, with derivatives, in interval arithmetic and exactly.

>>> from fractions import Fraction
>>> ipo = PairwiseLoss("ipo", pair=lambda z, ops, p: (z / p.beta - 1 / (2 * p.beta)) ** 2)
>>> ipo.pair_value(np.array([Fraction(1, 2)], dtype=object), beta=Fraction(1, 2)).tolist()
[Fraction(0, 1)]
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType, SimpleNamespace
from typing import Any, Literal

import numpy as np

from ..errors import NaNLossError, NonFiniteLossError, NotAMarginLossError, TheoryError
from .ops import DUAL, FLOAT, Dual, Ops

__all__ = [
    "PairwiseLoss",
    "Score",
    "NotAMarginLossError",
    "NonFiniteLossError",
    "NaNLossError",
    "margin_loss",
    "PROBE_Z",
]

Score = Literal["log_ratio", "log_prob", "log_odds"]

#: The margins on which a user's loss is probed (finite, not NaN, a function of z alone); the
#: search never needs margins beyond a few tens.
PROBE_Z = np.concatenate([np.linspace(-40.0, 40.0, 801), [-200.0, -100.0, 100.0, 200.0]])


PairFn = Callable[[Any, Ops, SimpleNamespace], Any]
SideFn = Callable[[Any, Any, Ops, SimpleNamespace], Any]


@dataclass(frozen=True)
class PairwiseLoss:
    """An offline preference loss (module docstring for the population formula).

    ``name``: the registry key (TRL's ``loss_type`` where one exists); ``pair(z, ops, p)``: the
    per-pair loss ``f`` of the margin; ``winner(u, log_pi, ops, p)`` / ``loser(...)``: separable
    terms ``g_w`` / ``g_l`` (or None); ``score``: how ``u`` is read off the model; ``shift``: BCO's
    profiled shift; ``params``: the loss's parameters with their defaults (``p.beta`` is added at
    evaluation); ``title``, ``formula``, ``source`` (arXiv id), ``minimizer``, ``wro``: the docs;
    ``exact_pair``: False when ``pair`` can only be evaluated in floats (a user's callable);
    ``convex``: the loss is convex in the scores ``u`` (one start suffices; False, the default
    for a user's loss, makes the solvers try several starts);
    ``kernel``: when set, the float population value ``kernel(w, d, p)`` (DPO and cDPO use
    :func:`theory.kernels.dpo_pair_loss`, the one DPO kernel).
    """

    name: str
    pair: PairFn | None = None
    winner: SideFn | None = None
    loser: SideFn | None = None
    score: Score = "log_ratio"
    shift: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""
    formula: str = ""
    source: str = ""
    minimizer: str = ""
    wro: str = ""
    exact_pair: bool = True
    convex: bool = False
    kernel: Callable[[np.ndarray, np.ndarray, SimpleNamespace], float] | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    @property
    def reference_free(self) -> bool:
        """True when the loss does not read ``pi_ref`` (SimPO, ORPO)."""
        return self.score != "log_ratio"

    @property
    def separable(self) -> bool:
        """True when the loss has per-response terms."""
        return self.winner is not None or self.loser is not None

    @property
    def starts(self) -> int:
        """How many starts the solvers use by default: 1 for a convex loss of the margins, 2 for
        a convex separable one, 3 otherwise."""
        if self.convex:
            return 1 if self.pair_only else 2
        return 3

    @property
    def pair_only(self) -> bool:
        """True when the loss reads the model only through the margins of compared pairs (no
        separable terms, scores ``beta (log pi - log pi_ref)`` or ``beta log pi``): its
        minimizing scores ``u*`` are then the same for every ``beta`` up to a constant."""
        return not self.separable and self.score != "log_odds"

    def with_params(self, **params: Any) -> PairwiseLoss:
        """The same loss with some parameters changed (unknown names raise)."""
        from ..errors import InvalidParameterError

        unknown = set(params) - set(self.params)
        if unknown:
            raise InvalidParameterError(
                f"{self.name} has no parameter {sorted(unknown)[0]!r}; its parameters are "
                f"{sorted(self.params)}"
            )
        return replace(self, params={**self.params, **params})

    def namespace(self, beta: Any) -> SimpleNamespace:
        """The parameters with ``beta`` as one namespace ``p`` (``p.beta``, ``p.eps``, ...)."""
        return SimpleNamespace(beta=beta, **self.params)

    def pair_value(self, z: Any, beta: Any = 1, ops: Ops = FLOAT) -> Any:
        """``f(z)`` elementwise (0 when the loss has no pair term)."""
        if self.pair is None:
            return z * 0
        return self.pair(z, ops, self.namespace(beta))


def _tree_fn(expr: Any, z: Any) -> PairFn:
    """A sympy expression in ``z`` as a function of ``(z, ops, p)`` (an interpreter of the tree,
    so every back end of :mod:`theory.zoo.ops` evaluates it)."""
    return lambda zv, ops, p: _evaluate(expr, z, zv, ops)


def _evaluate(e: Any, z: Any, zv: Any, ops: Ops) -> Any:
    """The sympy tree ``e`` at ``z = zv`` in the back end ``ops`` (children first)."""
    if e == z:
        return zv
    if e.is_Number or e.is_NumberSymbol:
        return _number(e, ops)
    args = [_evaluate(a, z, zv, ops) for a in e.args]
    return _apply(e, args, ops)


def _number(e: Any, ops: Ops) -> Any:
    """A sympy number: a Fraction when rational and ``ops`` is exact, else a float."""
    if e.is_Rational and ops.name == "exact":
        from fractions import Fraction

        return Fraction(int(e.p), int(e.q))
    return float(e)


def _apply(e: Any, args: list[Any], ops: Ops) -> Any:
    """The node ``e`` applied to its evaluated children ``args`` (folded left to right)."""
    import sympy

    if isinstance(e, sympy.Add):
        return functools.reduce(lambda a, b: a + b, args)
    if isinstance(e, sympy.Mul):
        return functools.reduce(lambda a, b: a * b, args)
    if isinstance(e, sympy.Pow):
        base, ex = args
        return _power(e.args[1], base, ex, ops)
    if isinstance(e, sympy.exp):
        return ops.exp(args[0])
    if isinstance(e, sympy.log):
        return ops.log(args[0])
    if isinstance(e, sympy.Max):
        return functools.reduce(ops.maximum, args)
    if isinstance(e, sympy.Min):
        return functools.reduce(lambda a, b: -ops.maximum(-a, -b), args)
    if isinstance(e, sympy.Abs):
        return ops.maximum(args[0], -args[0])
    raise NotAMarginLossError(
        f"the loss uses {type(e).__name__}, which theory.zoo cannot evaluate (use exp, log, "
        "Max, Min, Abs, powers and arithmetic)"
    )


def _power(n: Any, base: Any, ex: Any, ops: Ops) -> Any:
    """``base ** ex`` where ``n`` is the sympy exponent: an integer power as a product (an arb
    ball around 0 has no power), its reciprocal when negative; ``exp(ex log base)`` otherwise."""
    if not n.is_Integer:
        return ops.exp(ex * ops.log(base))
    out = 1
    for _ in range(abs(int(n))):
        out = out * base
    return 1 / out if int(n) < 0 else out


def _callable_fn(fn: Callable[[Any], Any]) -> PairFn:
    """A float callable of ``z`` as a pair function; derivatives by central differences."""

    def pair(zv: Any, ops: Ops, p: SimpleNamespace) -> Any:
        if isinstance(zv, Dual):
            h = 1e-6 * np.maximum(1.0, np.abs(zv.value))
            val = np.asarray(fn(zv.value), dtype=float)
            slope = (np.asarray(fn(zv.value + h), float) - np.asarray(fn(zv.value - h), float)) / (
                2 * h
            )
            return Dual(val, slope * zv.slope)
        if ops is not FLOAT:
            raise NotAMarginLossError("a Python callable is evaluated in floats only")
        return np.asarray(fn(np.asarray(zv, dtype=float)), dtype=float)

    return pair


def _probe(pair: PairFn, name: str) -> None:
    """Raise the named error when ``pair`` is not finite, NaN, or not a function of ``z``."""
    z = PROBE_Z.copy()
    with np.errstate(all="ignore"):
        try:
            v = pair(z, FLOAT, SimpleNamespace(beta=1.0))
            v2 = pair(z.copy(), FLOAT, SimpleNamespace(beta=1.0))
        except (TypeError, ValueError) as err:
            if isinstance(err, TheoryError):
                raise
            raise NotAMarginLossError(
                f"{name}: calling it on an array of margins z failed ({err}); expected a function "
                "of the margin z alone, elementwise"
            ) from None
    v = np.asarray(v, dtype=float) if np.ndim(v) else np.full(z.shape, float(v))
    if v.shape != z.shape:
        raise NotAMarginLossError(
            f"{name}: returns shape {v.shape} on {z.shape} margins, expected one value per margin"
        )
    if not np.array_equal(v, np.asarray(v2, dtype=float), equal_nan=True):
        raise NotAMarginLossError(f"{name}: returns different values on the same margins")
    bad = np.flatnonzero(np.isnan(v))
    if len(bad):
        raise NaNLossError(f"{name}: the loss is NaN at z = {z[bad[0]]:g}")
    bad = np.flatnonzero(~np.isfinite(v))
    if len(bad):
        raise NonFiniteLossError(
            f"{name}: the loss is {v[bad[0]]} at z = {z[bad[0]]:g}, expected finite on the reals "
            "(and within floating-point range)"
        )
    dual = pair(Dual(z, np.ones_like(z)), DUAL, SimpleNamespace(beta=1.0))
    if np.any(np.isnan(np.asarray(dual.value))) or np.any(np.isnan(np.asarray(dual.slope))):
        raise NaNLossError(f"{name}: the loss's derivative is NaN at some margin")


def margin_loss(loss: Any, *, name: str = "user loss") -> PairwiseLoss:
    """A user's per-pair loss ``f(z)`` of the margin ``z = beta (d(y_w) - d(y_l))`` as a
    :class:`PairwiseLoss`.

    ``loss``: a sympy expression in the one symbol ``z`` (evaluated in floats, with derivatives,
    in interval arithmetic and, when rational, exactly) or a Python callable of a float array
    ``z`` (floats only; derivatives by central differences, so its witnesses are certified in
    floats only), or a :class:`PairwiseLoss` (returned as is).  Raises
    :class:`NotAMarginLossError` (another free symbol, wrong arity or shape, not deterministic),
    :class:`NaNLossError` or :class:`NonFiniteLossError` (probed on :data:`PROBE_Z`).

    >>> import sympy
    >>> z = sympy.Symbol("z")
    >>> margin_loss((1 - z) ** 2).pair_value(np.array([0.0, 1.0])).tolist()
    [1.0, 0.0]
    >>> margin_loss(sympy.log(z))
    Traceback (most recent call last):
    ...
    theory.errors.NaNLossError: user loss: the loss is NaN at z = -40
    """
    if isinstance(loss, PairwiseLoss):
        return loss
    try:
        import sympy
    except ImportError:  # pragma: no cover - sympy is a dependency
        sympy = None
    if sympy is not None and isinstance(loss, sympy.Basic):
        return _sympy_loss(loss, name)
    if callable(loss):
        return _callable_loss(loss, name)
    raise NotAMarginLossError(
        f"{name}: got {type(loss).__name__}, expected a sympy expression in z, a callable of z or "
        "a PairwiseLoss"
    )


def _sympy_loss(loss: Any, name: str) -> PairwiseLoss:
    """:func:`margin_loss` of a sympy expression in ``z`` (probed)."""
    import sympy

    free = sorted(str(s) for s in loss.free_symbols)
    if [s for s in free if s != "z"]:
        raise NotAMarginLossError(
            f"{name}: the expression has free symbols {free}, expected the margin z alone"
        )
    pair = _tree_fn(loss, sympy.Symbol("z"))
    _probe(pair, name)
    return PairwiseLoss(name, pair=pair, title=name, formula=f"f(z) = {loss}")


def _callable_loss(loss: Callable[[Any], Any], name: str) -> PairwiseLoss:
    """:func:`margin_loss` of a float callable of ``z`` (one required argument; probed)."""
    required = _required_arguments(loss)
    if required != 1:
        raise NotAMarginLossError(
            f"{name}: the callable takes {required} required arguments, expected one (the margin z)"
        )
    pair = _callable_fn(loss)
    _probe(pair, name)
    return PairwiseLoss(name, pair=pair, title=name, formula="a Python callable", exact_pair=False)


def _required_arguments(fn: Callable[..., Any]) -> int:
    """How many positional arguments ``fn`` requires (1 for a builtin without a signature)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: try calling it
        return 1
    return len(
        [
            q
            for q in sig.parameters.values()
            if q.default is q.empty and q.kind in (q.POSITIONAL_ONLY, q.POSITIONAL_OR_KEYWORD)
        ]
    )
