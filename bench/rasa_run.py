"""Run crowd-kit's RASA on a claims CSV; executed inside .venv-bench by batch_synthetic.py.

    .venv-bench/bin/python bench/rasa_run.py CLAIMS.csv OUT.csv

RASA (Li 2019, doi:10.18653/v1/D19-5904) aggregates embeddings; a numeric claim enters as the
one-dimensional embedding [log value], so RASA's weighted mean is a geometric mean with
χ²-bounded source weights, the same working scale as Triangulate's. Writes question,value.
This file runs in a separate interpreter with pandas and crowd-kit, never in the main venv.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd  # type: ignore[import-not-found, import-untyped, unused-ignore]
from crowdkit.aggregation import RASA  # type: ignore[import-not-found, unused-ignore]


def main() -> None:
    claims_path, out_path = sys.argv[1], sys.argv[2]
    claims = pd.read_csv(claims_path, usecols=["question", "source", "value"])
    logs = np.log(claims["value"].to_numpy(dtype=float))
    data = pd.DataFrame({
        "task": claims["question"],
        "worker": claims["source"],
        "output": claims["value"],
        "embedding": list(logs.reshape(-1, 1)),
    })
    result = RASA().fit_predict(data)
    value = np.exp(np.stack(result["embedding"].to_numpy())[:, 0])
    pd.DataFrame({"question": result.index, "value": value}).to_csv(out_path, index=False)


if __name__ == "__main__":
    main()
