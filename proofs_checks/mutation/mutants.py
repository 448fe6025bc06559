"""The mutants: realistic single-point bugs in ``theory/``, each one textual replacement.

A :class:`Mutant` replaces one exact, unique piece of source text of one file by another (the
harness refuses a mutant whose text is missing or not unique, so a mutant never silently goes
stale when the library changes).  The kinds follow docs/mutation.md: a transposed matrix, a
dropped component, a flipped sign, a predicate that never fires, a search that returns its
first candidate, an off-by-one, a wrong default or argument, a wrong constant factor.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Mutant", "MUTANTS", "by_name"]


@dataclass(frozen=True)
class Mutant:
    """One bug: in ``path`` (relative to the repository root) replace ``old`` by ``new``.

    ``kind`` names the kind of bug, ``what`` says in words what it breaks and ``claims`` are the
    claims that call the mutated code (directly or through the library), run by default.
    """

    name: str
    kind: str
    path: str
    old: str
    new: str
    what: str
    claims: tuple[str, ...] = ()


M = Mutant

MUTANTS: tuple[Mutant, ...] = (
    M(
        "winrate-float-transposed",
        "transposed matrix",
        "theory/winrate.py",
        'float(rho @ np.einsum("xi,xij,xj->x", pi, A, q))',
        'float(rho @ np.einsum("xj,xij,xi->x", pi, A, q))',
        "the float win rate uses P^T (WR(q; pi) in place of WR(pi; q))",
        (
            "WR-basic",
            "WRO-closed-form",
            "WRO-correspondence",
            "WRO-consistency",
            "NLHF-is-WRO",
            "mitigations",
        ),
    ),
    M(
        "winner-loser-dropped-order",
        "dropped component",
        "theory/data.py",
        "pair = data.mu1[:, :, None] * data.mu0[:, None, :] + data.mu0[:, :, None] * "
        "data.mu1[:, None, :]",
        "pair = 2 * data.mu1[:, :, None] * data.mu0[:, None, :]",
        "the winner-loser distribution keeps one order of the pair (wrong when mu0 != mu1)",
        ("SFT-closed-form", "DPO-fixed-points", "RLHF-is-WRO"),
    ),
    M(
        "sft-target-dropped-term",
        "dropped component",
        "theory/methods/sft.py",
        "return data.mu1 * W0 + data.mu0 * W1",
        "return 2 * data.mu1 * W0",
        "p_w keeps one of its two terms (wrong when mu0 != mu1)",
        ("SFT-closed-form", "SFT-no-consistency", "mitigations"),
    ),
    M(
        "sft-formula-factor",
        "wrong constant",
        "theory/methods/sft.py",
        "value = half + sign * 2 * sft_variance_term(data.P[x], data.mu0[x])",
        "value = half + sign * sft_variance_term(data.P[x], data.mu0[x])",
        "the closed form 1/2 + 2 Var loses its factor 2",
        ("SFT-closed-form",),
    ),
    M(
        "best-of-n-off-by-one",
        "off-by-one",
        "theory/methods/best_of_n.py",
        "share = (below + mass) ** n - below**n",
        "share = (below + mass) ** (n + 1) - below ** (n + 1)",
        "best-of-n computes best-of-(n+1)",
        ("SFT-closed-form", "mitigations"),
    ),
    M(
        "iterated-sft-sign",
        "flipped sign",
        "theory/dynamics.py",
        "nxt = logs[-1] + np.log(2.0) + lw",
        "nxt = logs[-1] + np.log(2.0) - lw",
        "float iterated SFT divides by W instead of multiplying",
        ("mitigations",),
    ),
    M(
        "sft-step-transposed",
        "transposed matrix",
        "theory/dynamics.py",
        "out = 2 * p * (P_arr @ p)",
        "out = 2 * p * (P_arr.T @ p)",
        "one SFT step weights by the loss rate (P^T) instead of the win rate",
        ("mitigations",),
    ),
    M(
        "checkpoint-argmin",
        "flipped comparison",
        "theory/checkpoints.py",
        "by_wr = int(np.argmax(scores))",
        "by_wr = int(np.argmin(scores))",
        "the checkpoint chosen by win rate is the worst one",
        ("mitigations",),
    ),
    M(
        "gibbs-sign",
        "flipped sign",
        "theory/_optimum.py",
        "logratio = np.where(top, u - L[:, None], -np.inf)",
        "logratio = np.where(top, L[:, None] - u, -np.inf)",
        "the Gibbs (WRO, RLHF) optimum tilts away from the scores",
        (
            "WRO-closed-form",
            "RLHF-is-WRO",
            "WRO-correspondence",
            "WRO-consistency",
            "DPO-fixed-points",
        ),
    ),
    M(
        "wro-scores-transposed",
        "transposed matrix",
        "theory/wro.py",
        'f = np.einsum("xij,xj->xi", np.where(np.isfinite(H), H, 0.0), qf)',
        'f = np.einsum("xji,xj->xi", np.where(np.isfinite(H), H, 0.0), qf)',
        "the float WRO scores use h(P)^T",
        ("WRO-closed-form", "RLHF-is-WRO", "WRO-correspondence", "WRO-consistency"),
    ),
    M(
        "wro-infinite-branch-dropped",
        "dropped component",
        "theory/wro.py",
        "plus, minus = H == np.inf, H == -np.inf",
        "plus, minus = H == np.inf, H == np.inf",
        "the WRO optimum ignores infinite h values (unbounded h on deterministic pairs)",
        ("WRO-closed-form", "RLHF-is-WRO", "WRO-correspondence", "WRO-consistency"),
    ),
    M(
        "is-bt-never-fires",
        "predicate never fires",
        "theory/preferences.py",
        "return bool(np.max(np.abs(lo - (lo[:, [0]] + lo[[0], :]))) <= BT_TOL)",
        "return bool(np.max(np.abs(lo - (lo[:, [0]] + lo[[0], :]))) >= -BT_TOL)",
        "is_bradley_terry says True for every float matrix without 0/1 entries",
        ("WR-basic", "WRO-closed-form", "RLHF-is-WRO", "DPO-fixed-points"),
    ),
    M(
        "bt-matrix-sign",
        "flipped sign",
        "theory/preferences.py",
        "diff = r_arr[:, None] - r_arr[None, :]",
        "diff = r_arr[None, :] - r_arr[:, None]",
        "bradley_terry_matrix gives sigmoid(r_j - r_i)",
        ("WRO-closed-form", "RLHF-is-WRO", "DPO-fixed-points", "mitigations"),
    ),
    M(
        "bt-strengths-transposed",
        "transposed matrix",
        "theory/preferences.py",
        "s = P_arr[:, 0] / P_arr[0, :]  # s_i / s_0",
        "s = P_arr[0, :] / P_arr[:, 0]  # s_i / s_0",
        "bradley_terry_strengths returns 1/s (normalised)",
        ("RLHF-is-WRO", "DPO-fixed-points"),
    ),
    M(
        "axioms-increase-never-fires",
        "predicate never fires",
        "theory/axioms/cases.py",
        "    return _increase(lhs, rhs)",
        "    return False, 0.0",
        "a strict-increase property is never reported violated",
        ("U-forward", "U-converse", "U-catalog"),
    ),
    M(
        "axioms-equality-never-fires",
        "predicate never fires",
        "theory/axioms/cases.py",
        "return gap != 0, float(gap)",
        "return False, float(gap)",
        "an exact equality property is never reported violated",
        ("U-forward", "U-converse", "U-catalog"),
    ),
    M(
        "axioms-strict-as-weak",
        "off-by-one (< for <=)",
        "theory/axioms/cases.py",
        "return not lhs < rhs, float(lhs - rhs)",
        "return not lhs <= rhs, float(lhs - rhs)",
        "an exact strict increase accepts equality (monotone, not strictly)",
        ("U-forward", "U-converse", "U-catalog"),
    ),
    M(
        "search-first-candidate",
        "search returns its first candidate",
        "theory/search/exhaustive.py",
        "if b is None or (a is not None and not b.size < a.size):",
        "if b is None or a is not None:",
        "the smallest-witness search keeps the first witness, not the smallest",
        ("DPO-no-correspondence", "SFT-no-correspondence"),
    ),
    M(
        "search-keeps-largest",
        "flipped comparison",
        "theory/search/exhaustive.py",
        "(a is not None and not b.size < a.size)",
        "(a is not None and not b.size > a.size)",
        "the smallest-witness search keeps the largest witness of the first grid with one",
        ("DPO-no-correspondence", "SFT-no-correspondence"),
    ),
    M(
        "dpo-margin-sign",
        "flipped sign",
        "theory/kernels.py",
        "margin = beta * (d[..., :, None] - d[..., None, :])",
        "margin = beta * (d[..., None, :] - d[..., :, None])",
        "the DPO pair loss rewards the loser",
        ("DPO-fixed-points", "DPO-no-correspondence", "RLHF-is-WRO"),
    ),
    M(
        "kl-swapped",
        "swapped arguments",
        "theory/kernels.py",
        "rel_entr(np.asarray(pi, dtype=float), np.asarray(pi_ref, dtype=float))",
        "rel_entr(np.asarray(pi_ref, dtype=float), np.asarray(pi, dtype=float))",
        "KL(pi_ref || pi) in place of KL(pi || pi_ref)",
        ("WRO-closed-form", "RLHF-is-WRO", "DPO-fixed-points", "WRO-consistency"),
    ),
    M(
        "dpo-minimizers-beta",
        "inverted parameter",
        "theory/methods/dpo/minimizers.py",
        "        out = diff * inv_beta",
        "        out = diff / inv_beta",
        "the DPO minimizer set scales rewards by beta instead of 1/beta",
        ("DPO-fixed-points", "DPO-no-correspondence"),
    ),
    M(
        "rlhf-ignores-reference",
        "dropped argument",
        "theory/methods/rlhf.py",
        "ref = default_ref if pi_ref is None else",
        "ref = default_ref if pi_ref is not None else",
        "rlhf_policy ignores the user's pi_ref (uses the default reference)",
        ("RLHF-is-WRO", "DPO-fixed-points"),
    ),
    M(
        "logit-sign",
        "flipped sign",
        "theory/hfuncs.py",
        "return np.log(p) - np.log1p(-p)",
        "return np.log1p(-p) - np.log(p)",
        "the built-in logit h is decreasing (built-ins are not re-probed)",
        ("WRO-closed-form", "RLHF-is-WRO", "WRO-consistency", "U-forward"),
    ),
    M(
        "wro-default-h",
        "wrong default",
        "theory/wro.py",
        '    pi_ref: Any = None,\n    h: HLike = "identity",\n    rho: Any = None,\n'
        ") -> WROSolution:",
        '    pi_ref: Any = None,\n    h: HLike = "logit",\n    rho: Any = None,\n) -> WROSolution:',
        "wro_optimum's default h is logit instead of the identity",
        (
            "WRO-closed-form",
            "WRO-correspondence",
            "WRO-consistency",
            "RLHF-is-WRO",
            "NLHF-is-WRO",
            "SFT-no-consistency",
        ),
    ),
    M(
        "h-win-rate-transposed",
        "transposed matrix",
        "theory/evaluations.py",
        "total = sum((data.rho[x] * (pi[x] @ H[x] @ a[x]) for x in range(data.M)), Fraction(0))",
        "total = sum((data.rho[x] * (a[x] @ H[x] @ pi[x]) for x in range(data.M)), Fraction(0))",
        "the exact h-win-rate evaluation uses h(P)^T",
        ("U-forward", "U-converse", "U-catalog"),
    ),
    M(
        "lottery-transposed",
        "transposed matrix",
        "theory/lottery.py",
        "pi_f = float_lotteries(P_f[None])[0]",
        "pi_f = float_lotteries(P_f.T[None])[0]",
        "the maximal lottery is computed on P^T",
        ("NLHF-is-WRO", "SPPO-average-is-maximal-lottery"),
    ),
    M(
        "winner-loser-counts-swapped",
        "swapped arguments",
        "theory/bradley_terry.py",
        "np.add.at(c, (dataset.x, dataset.winners, dataset.losers), 1)",
        "np.add.at(c, (dataset.x, dataset.losers, dataset.winners), 1)",
        "sampled winner-loser counts credit the loser",
        ("DPO-fixed-points", "RLHF-is-WRO"),
    ),
    M(
        "cdpo-smoothing-factor",
        "wrong constant",
        "theory/zoo/closed_forms.py",
        "return PreferenceData(P=e + (1 - 2 * e) * data.P,",
        "return PreferenceData(P=e / 2 + (1 - e) * data.P,",
        "label smoothing with eps / 2 in place of eps (still a preference matrix)",
        ("cDPO-is-smoothed-DPO",),
    ),
    M(
        "rdpo-debias-factor",
        "wrong constant",
        "theory/zoo/closed_forms.py",
        "return (data.P - e) / (1 - 2 * e)",
        "return (data.P - e / 2) / (1 - e)",
        "the debiased matrix undoes eps / 2 of smoothing instead of eps",
        ("rDPO-is-debiased-DPO",),
    ),
)


def by_name(name: str) -> Mutant:
    """The mutant called ``name`` (KeyError naming the known ones otherwise)."""
    for m in MUTANTS:
        if m.name == name:
            return m
    raise KeyError(f"no mutant {name!r}; known: {[m.name for m in MUTANTS]}")
