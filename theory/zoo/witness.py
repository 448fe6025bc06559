"""Correspondence witnesses of a zoo loss: its loss order against the win-rate order.

Two strengths (docs/zoo.md):

* **plain**: models ``a``, ``b`` with ``L(a) < L(b)`` but ``WR(a; m) < WR(b; m)``, ``m`` the data
  anchor ``(mu0 + mu1)/2``;
* **strong**: in addition ``KL(a || pi_ref) >= KL(b || pi_ref)``.  At K = 2 every h-win rate
  increases with the mass on the preferred response, so a strong witness contradicts every
  KL-regularized WRO objective with a fixed anchor (any h, any fixed anchor, any beta >= 0).

:func:`search_witnesses` scores, on each random rational instance
(:mod:`theory.zoo.instances`), a set of rational candidate models (grid models, ``pi_ref``, and
near-vertex models with mass ``1/100`` or ``1/10^6`` off one response) in floats, keeps per instance
the pair with the widest float margins, and :func:`certify` re-evaluates the smallest of them on
the exact instance: win rates as Fractions, loss and KL as ``arb`` balls
(:data:`theory.zoo.ops.ARB`), certified when every interval lies strictly on the witness's
side.  A loss without an interval form (a Python callable, BCO's profiled shift) is certified in
floats only (``certified="float"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ..kernels import kl_rows
from .instances import InstanceBatch
from .loss import PairwiseLoss
from .ops import ARB, FLOAT, arb_precision, to_arb
from .population import loss_value, profile_shift, scores

__all__ = ["Witness", "WitnessSearch", "candidate_models", "search_witnesses", "certify"]

#: Relative float margin a candidate witness needs before it is certified.
FLOAT_MARGIN = 1e-7
#: How many candidates per strength are certified (smallest first).
CERTIFY_TRIES = 6


@dataclass(frozen=True)
class Witness:
    """A correspondence witness on one exact instance (module docstring).

    ``P`` ``(K, K)``, ``mu0``, ``mu1``, ``pi_ref``, ``a``, ``b`` ``(K,)`` and ``beta`` exact;
    ``wr_a``, ``wr_b`` the exact win rates against the data anchor; ``loss_a``, ``loss_b``,
    ``kl_a``, ``kl_b`` floats (midpoints of the certified balls); ``certified``: ``"arb"``
    (interval arithmetic) or ``"float"``."""

    loss: str
    strong: bool
    P: np.ndarray
    mu0: np.ndarray
    mu1: np.ndarray
    pi_ref: np.ndarray
    beta: Fraction
    a: np.ndarray
    b: np.ndarray
    wr_a: Fraction
    wr_b: Fraction
    loss_a: float
    loss_b: float
    kl_a: float
    kl_b: float
    certified: str

    @property
    def K(self) -> int:
        return int(self.P.shape[0])

    def size(self) -> tuple[int, int]:
        """``(K, largest denominator)``: the order in which witnesses are called smaller."""
        dens = [
            Fraction(v).denominator
            for arr in (self.P, self.mu0, self.mu1, self.pi_ref, self.a, self.b)
            for v in arr.ravel()
        ]
        return self.K, max(dens)

    def as_dict(self) -> dict[str, Any]:
        return {
            "loss": self.loss,
            "strong": self.strong,
            "K": self.K,
            "P": self.P,
            "mu0": self.mu0,
            "mu1": self.mu1,
            "pi_ref": self.pi_ref,
            "beta": self.beta,
            "a": self.a,
            "b": self.b,
            "loss_a": self.loss_a,
            "loss_b": self.loss_b,
            "wr_a": self.wr_a,
            "wr_b": self.wr_b,
            "kl_a": self.kl_a,
            "kl_b": self.kl_b,
            "certified": self.certified,
        }


@dataclass
class WitnessSearch:
    """What :func:`search_witnesses` saw: ``instances`` tried, how many had a float ``plain`` /
    ``strong`` witness, and the smallest certified ones (None: none found or certified)."""

    instances: int = 0
    plain: int = 0
    strong: int = 0
    smallest_plain: Witness | None = None
    smallest_strong: Witness | None = None
    uncertified: int = 0
    by_K: dict = field(default_factory=dict)

    def merge(self, other: WitnessSearch) -> WitnessSearch:
        out = WitnessSearch(
            self.instances + other.instances,
            self.plain + other.plain,
            self.strong + other.strong,
            uncertified=self.uncertified + other.uncertified,
        )
        for name in ("smallest_plain", "smallest_strong"):
            mine, theirs = getattr(self, name), getattr(other, name)
            pick = (
                mine
                if theirs is None or (mine is not None and mine.size() <= theirs.size())
                else theirs
            )
            setattr(out, name, pick)
        out.by_K = {**self.by_K}
        for k, v in other.by_K.items():
            old = out.by_K.get(k, (0, 0, 0))
            out.by_K[k] = tuple(x + y for x, y in zip(old, v, strict=True))
        return out


def candidate_models(K: int) -> tuple[np.ndarray, np.ndarray]:
    """The fixed candidate models shared by every instance: integer numerators ``(C, K)`` and
    denominators ``(C,)``: the uniform model, near-vertex models with mass ``1/100`` and
    ``1/10^6`` on each other response, and two-response edge models ``(99/100, 1/100)`` with
    ``10^-6`` elsewhere."""
    rows, dens = [np.ones(K, dtype=np.int64)], [K]
    for t, den in ((1, 100), (1, 10**6)):
        for k in range(K):
            r = np.full(K, t, dtype=np.int64)
            r[k] = den - (K - 1) * t
            rows.append(r)
            dens.append(den)
    return np.array(rows), np.array(dens, dtype=np.int64)


def _random_candidates(rng: np.random.Generator, n: int, K: int, count: int) -> np.ndarray:
    """``count`` grid numerators ``(n, count, K)`` over 20 per instance."""
    return 1 + rng.multinomial(20 - K, np.full(K, 1.0 / K), size=(n, count))


def _float_stats(
    loss: PairwiseLoss, batch: InstanceBatch, pi: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loss, win rate against the anchor, KL to ``pi_ref``: each ``(n, C)``, floats."""
    w = batch.floats("w")[:, None]
    beta = batch.floats("beta")[:, None]
    ref = batch.floats("pi_ref")
    log_ref = np.zeros_like(ref) if loss.reference_free else np.log(ref)
    lp = np.log(pi)
    u = scores(loss, lp, log_ref[:, None], beta)
    delta = profile_shift(loss, w, u, beta)
    with np.errstate(all="ignore"):
        L = loss_value(loss, w, u, lp, beta, FLOAT, delta)
    wr = np.einsum("nck,nkj,nj->nc", pi, batch.floats("P"), batch.floats("anchor"))
    kl = kl_rows(pi, np.broadcast_to(ref[:, None], pi.shape))
    return np.asarray(L, dtype=float), wr, kl


def _best_pairs(L: np.ndarray, wr: np.ndarray, kl: np.ndarray, strong: bool) -> np.ndarray:
    """Per instance the flat index ``a * C + b`` of the widest witness, -1 where none."""
    scale = 1 + np.abs(L)
    gl = (L[:, None, :] - L[:, :, None]) / scale[:, :, None]  # L_b - L_a
    gw = wr[:, None, :] - wr[:, :, None]  # WR_b - WR_a
    gap = np.minimum(gl, gw)
    if strong:
        gap = np.minimum(gap, kl[:, :, None] - kl[:, None, :])
    gap = np.where(np.isfinite(gap), gap, -np.inf)
    flat = gap.reshape(len(L), -1)
    best = np.argmax(flat, axis=1)
    ok = flat[np.arange(len(L)), best] > FLOAT_MARGIN
    return np.where(ok, best, -1)


def search_witnesses(
    loss: PairwiseLoss, batch: InstanceBatch, rng: np.random.Generator, *, random_models: int = 8
) -> WitnessSearch:
    """Search plain and strong witnesses on every instance of ``batch`` and certify the smallest
    (module docstring)."""
    K, n = batch.K, batch.n
    fixed, fixed_den = candidate_models(K)
    rand = _random_candidates(rng, n, K, random_models)
    nums = np.concatenate([np.broadcast_to(fixed, (n,) + fixed.shape), rand], axis=1)
    dens = np.concatenate(
        [
            np.broadcast_to(fixed_den, (n, len(fixed_den))),
            np.full((n, random_models), 20, dtype=np.int64),
        ],
        axis=1,
    )
    pi = nums / dens[:, :, None]
    L, wr, kl = _float_stats(loss, batch, pi)
    out = WitnessSearch(instances=n)
    for strong in (False, True):
        best = _best_pairs(L, wr, kl, strong)
        found = np.flatnonzero(best >= 0)
        if strong:
            out.strong = len(found)
        else:
            out.plain = len(found)
        C = nums.shape[1]
        denom = np.maximum(dens[found, best[found] // C], dens[found, best[found] % C])
        order = found[np.lexsort((denom,))] if len(found) else found
        for t in order[:CERTIFY_TRIES]:
            a_i, b_i = divmod(int(best[t]), C)
            wit = certify(
                loss,
                batch,
                int(t),
                _exact(nums[t, a_i], dens[t, a_i]),
                _exact(nums[t, b_i], dens[t, b_i]),
                strong,
            )
            if wit is None:
                out.uncertified += 1
                continue
            name = "smallest_strong" if strong else "smallest_plain"
            old = getattr(out, name)
            if old is None or wit.size() < old.size():
                setattr(out, name, wit)
            break
    out.by_K = {K: (n, out.plain, out.strong)}
    return out


def _exact(num: np.ndarray, den: int) -> np.ndarray:
    return np.array([Fraction(int(v), int(den)) for v in num], dtype=object)


def exact_win_rate(P: np.ndarray, pi: np.ndarray, q: np.ndarray) -> Fraction:
    """``sum_{i,j} pi_i P_ij q_j`` in Fractions (the witness's win rate)."""
    return sum((pi[i] * P[i, j] * q[j] for i in range(len(pi)) for j in range(len(q))), Fraction(0))


def certify(
    loss: PairwiseLoss, batch: InstanceBatch, t: int, a: np.ndarray, b: np.ndarray, strong: bool
) -> Witness | None:
    """The witness ``(a, b)`` on instance ``t``, certified (module docstring), or None when an
    interval does not separate (or the exact win rates do not)."""
    P, mu0, mu1, ref, beta = (
        batch.P[t],
        batch.mu0[t],
        batch.mu1[t],
        batch.pi_ref[t],
        batch.beta[t],
    )
    anchor = (mu0 + mu1) / 2
    wr_a, wr_b = exact_win_rate(P, a, anchor), exact_win_rate(P, b, anchor)
    if not wr_a < wr_b:
        return None
    level = "arb" if (loss.exact_pair and not loss.shift) else "float"
    w = batch.w_at(t)
    if level == "arb":
        with arb_precision():
            vals = [_arb_loss(loss, w, m, ref, beta) for m in (a, b)]
            kls = [_arb_kl(m, ref) for m in (a, b)]
            if not (vals[1] - vals[0] > 0):
                return None
            if strong and not (kls[0] - kls[1] > 0):
                return None
            fl = [float(v.mid()) for v in vals]
            fk = [float(v.mid()) for v in kls]
    else:
        sub = InstanceBatch(
            K=batch.K,
            P=P[None],
            mu0=mu0[None],
            mu1=mu1[None],
            pi_ref=ref[None],
            beta=np.array([beta], dtype=object),
            family=batch.family[t : t + 1],
        )
        Lf, _, kf = _float_stats(loss, sub, np.array([[a, b]], dtype=float))
        fl, fk = [float(v) for v in Lf[0]], [float(v) for v in kf[0]]
        if not fl[0] < fl[1] or (strong and not fk[0] > fk[1]):
            return None
    return Witness(
        loss.name,
        strong,
        P,
        mu0,
        mu1,
        ref,
        beta,
        a,
        b,
        wr_a,
        wr_b,
        fl[0],
        fl[1],
        fk[0],
        fk[1],
        level,
    )


def _arb_loss(loss: PairwiseLoss, w: np.ndarray, pi: np.ndarray, ref: np.ndarray, beta: Any) -> Any:
    lp = ARB.log(to_arb(pi))
    b = to_arb(beta)
    if loss.score == "log_ratio":
        u = b * (lp - ARB.log(to_arb(ref)))
    elif loss.score == "log_prob":
        u = b * lp
    else:
        u = lp - ARB.log(1 - to_arb(pi))
    return loss_value(loss, to_arb(w), u, lp, b, ARB)


def _arb_kl(pi: np.ndarray, ref: np.ndarray) -> Any:
    p = to_arb(pi)
    return np.sum(p * (ARB.log(p) - ARB.log(to_arb(ref))))
