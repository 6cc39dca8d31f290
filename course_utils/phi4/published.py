"""What the papers report for lattice phi^4 sampled by flows, as transcribed (issue 23).

One entry per point (L, m^2, lambda); ``None`` where a number was not transcribed (see
``NOTES``). Used by notebook 09b and ``benchmarks/phi4.py`` to put the kit's numbers beside them.
"""

from __future__ import annotations

__all__ = ["PUBLISHED", "NOTES"]

PUBLISHED = {
    "tutorial": {
        "L": 8, "m2": -4.0, "lam": 8.0,
        "source": "Albergo et al., arXiv:2101.08176 (tutorial), GPU, ~5 min of training",
        "ess": "~0.4",
        "acceptance": "0.3-0.4",
        "chi2": "0.75 +- 0.01 (HMC)",
    },
    "e1": {
        "L": 6, "m2": -4.0, "lam": 6.975,
        "source": "Albergo, Kanwar & Shanahan, PRD 100, 034515 (2019), ensemble E1",
        "ess": None,
        "acceptance": None,
        "chi2": None,
    },
}
NOTES = (
    "The tutorial's numbers are those quoted in issue 23; the 2019 paper's E1 values are shown in "
    "its figures and were not transcribed here (no copy of the paper on this machine)."
)
