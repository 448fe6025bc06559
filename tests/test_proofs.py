"""The symbolic proofs of proofs_checks.proofs (issue 16): every proof proves for K = 2, 3, 4,
a mutated library turns a proof into a disproof with a rational counterexample, the residual
fallback, the verdict rule with proofs, and the runner's --prove / --prove-only / --show-proof."""

from __future__ import annotations

import doctest
import json
import sys
import time
from fractions import Fraction

import pytest
import sympy as sp

import theory
from proofs_checks import proofs
from proofs_checks.proofs import core
from proofs_checks.scaffold.claim import CheckResult, proof_verdict, verdict_of
from proofs_checks.scaffold.cli import main

#: The proofs' time budget on one core (docs/proofs.md): all of them together.
BUDGET_S = 60.0


@pytest.fixture(scope="module")
def results() -> dict[str, proofs.ProofResult]:
    start = time.process_time()
    out = {cid: proofs.prove(cid) for cid in proofs.available()}
    seconds = time.process_time() - start
    print(f"\nproofs: {len(out)} claims for K = 2, 3, 4 in {seconds:.1f} s of CPU")
    assert seconds <= BUDGET_S, f"the proofs took {seconds:.1f} s of CPU (budget {BUDGET_S} s)"
    return out


def test_the_proofs_cover_the_algebraic_claims() -> None:
    assert set(proofs.available()) >= {
        "WR-basic",
        "SFT-closed-form",
        "RLHF-is-WRO",
        "WRO-closed-form",
        "DPO-fixed-points",
        "U-forward",
        "mitigations",
    }


@pytest.mark.parametrize("claim_id", proofs.available())
def test_every_proof_proves_for_K_2_3_4(results, claim_id: str) -> None:
    r = results[claim_id]
    assert r.status == "proved", (r.failed, r.residual, r.counterexample)
    assert r.Ks == (2, 3, 4)
    assert {s.K for s in r.steps} == {2, 3, 4}
    assert all(s.reduced == "0" for s in r.steps)
    json.dumps(r.as_dict())


@pytest.mark.parametrize("claim_id", proofs.available())
def test_every_symbol_of_a_proof_is_drawn_by_its_groups(claim_id: str) -> None:
    """The fallback evaluates a residual at points of the identity's groups: none may be left
    symbolic (else a false identity could not be disproved)."""
    build = proofs._module(claim_id).build
    for K in (2, 3):
        identities, links = build(K)
        for ident in identities:
            assert not core.uncovered(ident.lhs - ident.rhs, ident.groups), ident.name
        for link in links:
            assert not core.uncovered(link.formula, link.groups), link.name


def _is_rational_point(point: dict[str, str]) -> bool:
    return bool(point) and all(isinstance(Fraction(v), Fraction) for v in point.values())


def test_a_wrong_constant_in_the_sft_formula_is_disproved(monkeypatch) -> None:
    module = sys.modules[theory.methods.sft.sft_win_rate_formula.__module__]
    right = module.sft_variance_term
    monkeypatch.setattr(module, "sft_variance_term", lambda P, mu: right(P, mu) * Fraction(3, 2))
    r = proofs.prove("SFT-closed-form")
    assert r.status == "disproved"
    assert "sft_win_rate_formula" in (r.failed or "")
    assert _is_rational_point(r.counterexample or {})


def test_a_wrong_winner_distribution_is_disproved(monkeypatch) -> None:
    right = theory.methods.sft.winner_distribution

    def wrong(P, mu0, mu1=None):
        return right(P, mu0, mu1) * Fraction(101, 100)

    monkeypatch.setattr(theory.methods.sft, "winner_distribution", wrong)
    r = proofs.prove("SFT-closed-form", Ks=(3,))
    assert r.status == "disproved" and "winner_distribution" in (r.failed or "")
    assert _is_rational_point(r.counterexample or {})


def _one(lhs, rhs):
    mu, g = core.simplex(2, "mu")
    expr_l, expr_r = lhs(mu[0]), rhs(mu[0])
    return lambda K: ([core.Identity("test", K, expr_l, expr_r, (g,))], [])


def test_the_fallback_disproves_a_false_identity_at_a_rational_point() -> None:
    r = core.run_proof("test", (2,), _one(lambda x: x**2, lambda x: x))
    assert r.status == "disproved"
    assert _is_rational_point(r.counterexample or {})
    assert r.residual is not None and "mu0" in r.residual


def test_the_fallback_draws_an_increasing_h_for_an_undefined_h() -> None:
    P, g = core.pref_matrix(2)
    h, gh = core.undefined_h()
    ident = core.Identity("h(p) = h(1 - p)", 2, h(P[0, 1]), h(P[1, 0]), (g, gh))
    r = core.run_proof("test", (2,), lambda K: ([ident], []))
    assert r.status == "disproved" and set(r.counterexample or {}) == {"p01", "h"}


def test_a_true_identity_sympy_does_not_reduce_is_not_proved() -> None:
    r = core.run_proof("test", (2,), _one(lambda x: sp.sin(x) ** 2 + sp.cos(x) ** 2, lambda x: 1))
    assert r.status == "not proved" and r.counterexample is None
    assert "sin" in (r.residual or "")


def test_the_reduction_never_calls_equals_and_reaches_a_literal_zero() -> None:
    x = sp.Symbol("x", positive=True)
    assert core.reduce_residual((x + 1) ** 2 - x**2 - 2 * x - 1) == (0, "expand")
    reduced, _ = core.reduce_residual(sp.Matrix([x * (x + 1) - x**2 - x, 0]))
    assert reduced == 0


def test_the_verdict_rule_with_proofs() -> None:
    ok = CheckResult(observed="", instances=1, found=False)
    bad = CheckResult(observed="", instances=1, found=True)
    assert verdict_of("holds", ok, (), "proved") == "agrees"
    assert verdict_of("holds", ok, (), "disproved") == "disagrees"
    assert verdict_of("holds", ok, (), "not proved") == "inconclusive"
    assert verdict_of("holds", bad, (), "proved") == "disagrees"
    assert verdict_of("holds", ok) == "agrees"
    assert [proof_verdict(s) for s in ("proved", "disproved", "not proved")] == [
        "agrees",
        "disagrees",
        "inconclusive",
    ]


def test_show_prints_the_steps() -> None:
    text = proofs.show("WR-basic")
    assert "WR(pi; pi) = 1/2" in text and "reduced (expand): 0" in text
    assert text.rstrip().endswith("status: proved")
    with pytest.raises(KeyError):
        proofs.show("U-converse")


def test_cli_prove_only_writes_the_proof_field(tmp_path, capsys) -> None:
    out = tmp_path / "report.json"
    status = main(["--prove-only", "--only", "WR-basic", "U-converse", "--json", str(out)])
    assert status == 0
    text = capsys.readouterr().out
    assert "no proof (skipped by --prove-only): U-converse" in text
    assert "proofs: 1 of 1 proved" in text
    (claim,) = json.loads(out.read_text())["claims"]
    assert claim["id"] == "WR-basic" and claim["verdict"] == "agrees"
    assert claim["proof"]["status"] == "proved" and claim["proof"]["Ks"] == [2, 3, 4]


def test_cli_prove_beside_the_instances(tmp_path) -> None:
    out = tmp_path / "report.json"
    argv = ["--prove", "--only", "WR-basic", "--instances", "20", "--no-figures"]
    assert main([*argv, "--json", str(out)]) == 0
    (claim,) = json.loads(out.read_text())["claims"]
    assert claim["instances"] == 20 and claim["proof"]["status"] == "proved"


def test_cli_prove_only_disagrees_on_a_mutated_library(monkeypatch, tmp_path) -> None:
    module = sys.modules[theory.methods.sft.sft_win_rate_formula.__module__]
    right = module.sft_variance_term
    monkeypatch.setattr(module, "sft_variance_term", lambda P, mu: right(P, mu) * 2)
    out = tmp_path / "report.json"
    assert main(["--prove-only", "--only", "SFT-closed-form", "--json", str(out)]) == 1
    (claim,) = json.loads(out.read_text())["claims"]
    assert claim["verdict"] == "disagrees" and claim["proof"]["status"] == "disproved"
    assert _is_rational_point(claim["proof"]["counterexample"])


def test_cli_show_proof_and_usage_errors(capsys) -> None:
    assert main(["--show-proof", "mitigations"]) == 0
    assert "best of 2 by enumeration" in capsys.readouterr().out
    for argv in (["--show-proof", "U-converse"], ["--prove", "--prove-only"]):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2


@pytest.mark.parametrize("module", [proofs, core])
def test_doctests(module) -> None:
    assert doctest.testmod(module).failed == 0


#: The library links that compute on sympy symbols (docs/proofs.md, "library linked"): for these
#: the link is a proof about the library's own code, not a comparison at sampled points.
SYMBOLIC_LINKS = {
    "WR-basic": {"theory.win_rate", "theory.win_rate_covariance"},
    "SFT-closed-form": {
        "theory.methods.sft.winner_distribution",
        "theory.methods.sft.loser_distribution",
        "theory.sft_win_rate",
        "theory.methods.sft.sft_win_rate_formula",
    },
    "mitigations": {"theory.best_of_n", "theory.methods.best_of_n.best_of_n_win_rate"},
}


def _links_by_how(r: proofs.ProofResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in r.steps:
        if s.method in ("symbolic", "exact", "sampled"):
            out.setdefault(s.method, set()).add(s.name.split("(")[0])
    return out


@pytest.mark.parametrize("claim_id", proofs.available())
def test_which_library_links_are_symbolic_proofs(results, claim_id: str) -> None:
    hows = _links_by_how(results[claim_id])
    assert hows.get("symbolic", set()) == SYMBOLIC_LINKS.get(claim_id, set())
    assert not hows.get("symbolic", set()) & hows.get("sampled", set())


def test_a_symbolic_link_reduces_the_library_s_own_expression() -> None:
    """theory.win_rate on symbols returns pi^T P q as an expression: the link is a proof."""
    P, gp = core.pref_matrix(3)
    pi, g1 = core.simplex(3, "pi")
    q, g2 = core.simplex(3, "q")
    value = theory.win_rate(core.at(P, {}), core.at(pi, {}), core.at(q, {}))
    assert isinstance(value, sp.Expr)
    assert value.free_symbols == {*gp.symbols, *g1.symbols, *g2.symbols}
    assert sp.expand(value - core.dot(pi, core.matvec(P, q))) == 0


def test_docs_proofs_output_page_is_fresh() -> None:
    from proofs_checks.proofs import docs_page

    assert docs_page.PAGE.read_text() == docs_page.render(), f"run {docs_page.COMMAND}"
