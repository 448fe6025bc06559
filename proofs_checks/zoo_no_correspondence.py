"""zoo-no-correspondence: every offline pairwise loss of the zoo has a certified correspondence
witness: models ``a``, ``b`` with ``L(a) < L(b)`` but ``WR(a; m) < WR(b; m)``; and a *strong* one
(also ``KL(a || pi_ref) >= KL(b || pi_ref)``) where the loss allows.

For every loss of :data:`theory.zoo.ZOO` the search of :func:`theory.zoo.witness.search_witnesses`
runs on the same random rational instances (K in 2..6, Bradley-Terry, general and total-order
``P``, ``mu0 = mu1`` for half) and certifies the smallest witness of each strength (exact win
rates; loss and KL as ``arb`` balls).  Each reported witness is then re-verified here by a
separate path: the loss summed pair by pair and response by response in mpmath at
:data:`DPS` digits (BCO's shift minimized by bisection here), the KL in mpmath, and the win rates
as explicit Fraction sums.  A strong witness contradicts, at K = 2, every KL-regularized WRO
objective with a fixed anchor; a bounded loss may have none ("none found in N instances").

Positive control: docs/zoo.md's K = 2 strong witness for DPO (``P_01 = 2/3``, ``mu`` uniform,
``pi_ref = (2/3, 1/3)``, ``beta = 1``, ``a = (.01, .99)``, ``b = (1 - 1e-6, 1e-6)``) must certify
and re-verify.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from types import SimpleNamespace
from typing import Any

import mpmath  # type: ignore[import-untyped]
import numpy as np

from theory.zoo import ZOO, PairwiseLoss
from theory.zoo.instances import InstanceBatch, random_instances
from theory.zoo.ops import Ops
from theory.zoo.witness import Witness, WitnessSearch, certify, search_witnesses

from .scaffold import (
    CheckContext,
    CheckResult,
    Claim,
    Collected,
    Control,
    Tally,
    cells,
    chunked,
    collected,
)

MAX_K = 6
#: Decimal digits of the mpmath re-verification.
DPS = 50


def _mp_log_sigmoid(x: Any) -> Any:
    return -mpmath.log(1 + mpmath.exp(-x)) if x > 0 else x - mpmath.log(1 + mpmath.exp(x))


MP = Ops(
    "mpmath",
    mpmath.log,
    mpmath.exp,
    lambda x: 1 / (1 + mpmath.exp(-x)),
    _mp_log_sigmoid,
    lambda a, b: max(mpmath.mpf(a), mpmath.mpf(b)),
)


def _mp(v: Any) -> Any:
    v = Fraction(v)
    return mpmath.mpf(v.numerator) / v.denominator


def mp_loss(loss: PairwiseLoss, wit: Witness, pi: np.ndarray) -> Any:
    """The population loss of ``pi`` on the witness's instance, one term at a time in mpmath."""
    beta = _mp(wit.beta)
    p = SimpleNamespace(beta=beta, **{k: mpmath.mpf(v) for k, v in loss.params.items()})
    lp, u = _mp_scores(loss, wit, pi, beta)
    K = wit.K
    w = [
        [_mp(wit.P[i, j] * (wit.mu1[i] * wit.mu0[j] + wit.mu0[i] * wit.mu1[j])) for j in range(K)]
        for i in range(K)
    ]
    total = _mp_pair_terms(loss, w, u, p)
    if not loss.separable:
        return total

    def side(delta: Any) -> Any:
        return _mp_side_terms(loss, w, u, lp, p, delta)

    if not loss.shift:
        return total + side(0)
    return total + side(_mp_argmin(side, min(u) - 80, max(u) + 80))


def _mp_scores(loss: PairwiseLoss, wit: Witness, pi: np.ndarray, beta: Any) -> tuple[list, list]:
    """``log pi`` and the loss's scores ``u`` (``beta`` log-ratio, ``beta log pi`` or log-odds)."""
    K = wit.K
    lp = [mpmath.log(_mp(pi[y])) for y in range(K)]
    if loss.score == "log_ratio":
        u = [beta * (lp[y] - mpmath.log(_mp(wit.pi_ref[y]))) for y in range(K)]
    elif loss.score == "log_prob":
        u = [beta * lp[y] for y in range(K)]
    else:
        u = [lp[y] - mpmath.log(1 - _mp(pi[y])) for y in range(K)]
    return lp, u


def _mp_pair_terms(loss: PairwiseLoss, w: list, u: list, p: SimpleNamespace) -> Any:
    """``sum_{w_ij > 0} w_ij f(u_i - u_j)`` (0 without a pair term)."""
    total = mpmath.mpf(0)
    if loss.pair is None:
        return total
    for i, j in np.ndindex(len(u), len(u)):
        if w[i][j] > 0:
            total += w[i][j] * loss.pair(u[i] - u[j], MP, p)
    return total


def _mp_side_terms(
    loss: PairwiseLoss, w: list, u: list, lp: list, p: SimpleNamespace, delta: Any
) -> Any:
    """The separable terms: each response's winner and loser weights times its terms at the
    shifted score ``u_y - delta``."""
    K = len(u)
    s = mpmath.mpf(0)
    for y in range(K):
        pw, pl = sum(w[y]), sum(w[i][y] for i in range(K))
        if loss.winner is not None and pw > 0:
            s += pw * loss.winner(u[y] - delta, lp[y], MP, p)
        if loss.loser is not None and pl > 0:
            s += pl * loss.loser(u[y] - delta, lp[y], MP, p)
    return s


def _mp_argmin(fn: Any, lo: Any, hi: Any) -> Any:
    """The minimum of the convex ``fn`` on ``[lo, hi]``, by 300 ternary-search steps."""
    for _ in range(300):
        m1, m2 = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        if fn(m1) < fn(m2):
            hi = m2
        else:
            lo = m1
    return (lo + hi) / 2


def reverify(wit: Witness) -> bool:
    """The separate path of the module docstring."""
    loss = ZOO[wit.loss]
    anchor = [(wit.mu0[j] + wit.mu1[j]) / 2 for j in range(wit.K)]

    def wr(m: np.ndarray) -> Fraction:
        return sum(
            (Fraction(m[i]) * wit.P[i, j] * anchor[j] for i in range(wit.K) for j in range(wit.K)),
            Fraction(0),
        )

    def kl(m: np.ndarray) -> Any:
        return sum(
            _mp(m[y]) * (mpmath.log(_mp(m[y])) - mpmath.log(_mp(wit.pi_ref[y])))
            for y in range(wit.K)
        )

    with mpmath.workdps(DPS):
        if not mp_loss(loss, wit, wit.a) < mp_loss(loss, wit, wit.b):
            return False
        if wit.strong and not kl(wit.a) >= kl(wit.b):
            return False
    return wr(wit.a) < wr(wit.b)


@dataclass
class Stats(Tally):
    #: ``(loss name, WitnessSearch)`` of each chunk, in order: :func:`finish` merges them per loss.
    searches: Collected = collected()


def _merged(stats: Stats) -> dict[str, WitnessSearch]:
    """The chunks' searches merged per loss, in chunk order (a tie keeps the earlier witness)."""
    out: dict[str, WitnessSearch] = {}
    for name, s in stats.searches.values:
        out[name] = out[name].merge(s) if name in out else s
    return out


def _row(name: str, s: WitnessSearch, ok: dict) -> dict:
    def cell(w: Witness | None, key: str) -> Any:
        if w is None:
            return None
        return {"K": w.K, "size": w.size()[1], "certified": w.certified, "reverified": ok[key]}

    return {
        "loss": name,
        "instances": s.instances,
        "plain": s.plain,
        "strong": s.strong,
        "smallest_plain": cell(s.smallest_plain, "plain"),
        "smallest_strong": cell(s.smallest_strong, "strong"),
    }


def chunk(ctx: CheckContext) -> Stats:
    """Every loss's witness search on the chunk's instances (one batch per K)."""
    rng = ctx.rng
    searches: dict[str, WitnessSearch] = {}
    done = 0
    for cell in cells(rng, ctx.instances, K=range(2, MAX_K + 1)):
        batch = random_instances(rng, cell.n, cell.K)
        for name, loss in ZOO.items():
            r = search_witnesses(loss, batch, rng)
            searches[name] = searches[name].merge(r) if name in searches else r
        done += cell.n
        ctx.progress(done)
    stats = Stats()
    stats.searches.add(*searches.items())
    return stats


def finish(stats: Stats, ctx: CheckContext) -> CheckResult:
    """The smallest witnesses of each loss over all chunks, re-verified here (module
    docstring), then the result."""
    searches = _merged(stats)
    rows, missing, strong_missing = [], [], []
    for name, s in searches.items():
        ok = {
            "plain": s.smallest_plain is not None and reverify(s.smallest_plain),
            "strong": s.smallest_strong is not None and reverify(s.smallest_strong),
        }
        rows.append(_row(name, s, ok))
        if not ok["plain"]:
            missing.append(name)
        if not ok["strong"]:
            strong_missing.append(name)
    found = not missing
    if found:
        plain = [s.smallest_plain for s in searches.values() if s.smallest_plain is not None]
        w = min(plain, key=lambda x: x.size())
        stats.witness.offer(w.size(), w.as_dict())
    observed = (
        f"certified and re-verified plain witnesses for {len(ZOO) - len(missing)} of {len(ZOO)} "
        f"losses on {ctx.instances} instances each; strong witnesses for "
        f"{len(ZOO) - len(strong_missing)} (none found in {ctx.instances} instances for: "
        f"{', '.join(strong_missing) or 'none'})"
    )
    if missing:
        observed += f"; no plain witness for {', '.join(missing)}"
    return CheckResult(
        observed,
        ctx.instances,
        found,
        stats.witness.value,
        details={"methods": rows, "strong_missing": strong_missing},
    )


def zoo_md_instance() -> tuple[InstanceBatch, np.ndarray, np.ndarray]:
    """docs/zoo.md's generic K = 2 strong witness, as an instance and its two models."""
    F = Fraction
    P = np.array([[[F(1, 2), F(2, 3)], [F(1, 3), F(1, 2)]]], dtype=object)
    mu = np.array([[F(1, 2), F(1, 2)]], dtype=object)
    batch = InstanceBatch(
        K=2,
        P=P,
        mu0=mu,
        mu1=mu.copy(),
        pi_ref=np.array([[F(2, 3), F(1, 3)]], dtype=object),
        beta=np.array([F(1)], dtype=object),
        family=np.array(["general"]),
    )
    a = np.array([F(1, 100), F(99, 100)], dtype=object)
    b = np.array([1 - F(1, 10**6), F(1, 10**6)], dtype=object)
    return batch, a, b


def _control(rng: np.random.Generator) -> bool:
    batch, a, b = zoo_md_instance()
    wit = certify(ZOO["sigmoid"], batch, 0, a, b, True)
    return wit is not None and reverify(wit)


CLAIM = Claim(
    "zoo-no-correspondence",
    "every offline pairwise loss of the zoo has a certified correspondence witness (plain; strong "
    "where the loss allows)",
    "counterexample",
    chunked(chunk, finish, size=200),
    None,
    default_instances=1000,
    quick_instances=100,
    controls=(Control("docs/zoo.md's K = 2 DPO strong witness", _control),),
)
