#!/usr/bin/env python3
"""Reference values for SchoolHealth's report statistics, computed with statsmodels and scipy.

Writes Fixtures/analytics/reference.json. Run from the repository root:
    pip install statsmodels scipy && python3 Tests/HealthAnalyticsTests/reference/make_reference.py
The Swift tests (Tests/HealthAnalyticsTests) compare their results with these to 1e-9.
"""
import json
import math
import os

import numpy as np
from scipy import stats
from statsmodels.stats.contingency_tables import Table
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, proportions_ztest

wilson_inputs = [(0, 10), (1, 10), (5, 10), (10, 10), (37, 1062), (394, 1062), (3, 7), (999, 1000), (1, 1)]
pairs = [(394, 1062, 410, 1050), (5, 20, 9, 25), (0, 15, 3, 15), (120, 400, 100, 390), (50, 100, 50, 100), (7, 7, 3, 9)]
trends = [([120, 110, 95, 90], [400, 410, 395, 405]), ([5, 9, 14], [50, 50, 50]), ([30, 30, 31, 29, 30], [100, 100, 100, 100, 100])]
standardisations = [
    # (counts per stratum, population per stratum, reference population per stratum)
    ([12, 30, 45, 60], [100, 120, 110, 130], [500, 480, 470, 450]),
    ([3, 0, 7, 11, 2, 9], [20, 15, 30, 28, 12, 25], [200, 210, 190, 205, 180, 195]),
    ([150, 160], [400, 420], [1000, 900]),
]

out = {"wilson": [], "newcombe": [], "twoProportionZ": [], "cochranArmitage": [], "directStandardisation": []}
for x, n in wilson_inputs:
    lo, hi = proportion_confint(x, n, alpha=0.05, method="wilson")
    out["wilson"].append({"x": x, "n": n, "lower": lo, "upper": hi})
for x1, n1, x2, n2 in pairs:
    lo, hi = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05)
    out["newcombe"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "diff": x1 / n1 - x2 / n2, "lower": lo, "upper": hi})
    z, p = proportions_ztest([x1, x2], [n1, n2])
    out["twoProportionZ"].append({"x1": x1, "n1": n1, "x2": x2, "n2": n2, "z": z, "p": p})
for x, n in trends:
    x = np.array(x); n = np.array(n)
    table = Table(np.column_stack([x, n - x]))
    scores = np.arange(len(x), dtype=float)
    r = table.test_ordinal_association(row_scores=scores, col_scores=np.array([1.0, 0.0]))
    out["cochranArmitage"].append({"x": x.tolist(), "n": n.tolist(), "z": r.zscore, "p": r.pvalue})
for counts, pop, ref in standardisations:
    counts = np.array(counts, dtype=float); pop = np.array(pop, dtype=float); ref = np.array(ref, dtype=float)
    w = ref / ref.sum()
    rate = counts / pop
    dsr = float(np.sum(w * rate))
    var = float(np.sum(w ** 2 * counts / pop ** 2))
    wm = float(np.max(w / pop))
    # Fay & Feuer (1997) gamma interval, as in R epitools::ageadjust.direct.
    lo = stats.gamma.ppf(0.025, a=dsr ** 2 / var, scale=var / dsr) if dsr > 0 else 0.0
    hi = stats.gamma.ppf(0.975, a=(dsr + wm) ** 2 / (var + wm ** 2), scale=(var + wm ** 2) / (dsr + wm))
    out["directStandardisation"].append({"counts": counts.astype(int).tolist(), "population": pop.astype(int).tolist(),
                                         "reference": ref.astype(int).tolist(), "rate": dsr, "variance": var, "lower": lo, "upper": hi})

path = os.path.join("Fixtures", "analytics", "reference.json")
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump({"generator": "Tests/HealthAnalyticsTests/reference/make_reference.py",
               "libraries": {"statsmodels": __import__("statsmodels").__version__, "scipy": __import__("scipy").__version__,
                             "numpy": np.__version__},
               **out}, f, indent=1)
print("wrote", path)
