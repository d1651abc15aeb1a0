"""The 2018 lakes study's own numbers, quoted from its Tables 3-6 (capstone report, Feb 2018).

Reference values only: notebook 05 and :mod:`geonb.experiments` set geonb's results beside them. Nothing
here is computed.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = ["STUDY_TABLE3", "STUDY_TABLE4", "STUDY_TABLE5", "STUDY_TABLE5_F1", "STUDY_TABLE6"]

#: Table 3 uses the study's own FP/FN naming (its "FP" = water predicted as land).
STUDY_TABLE3 = pd.DataFrame(
    {
        "N train": [4406, 1592, 337, 60], "N test": [861, 324, 66, 8],
        "TN": [41629, 69449, 62248, 32562], "FN": [2208, 3206, 1420, 206],
        "TP": [8585, 8575, 3144, 0], "FP": [2682, 1714, 772, 0],
        "F1": [0.773, 0.7821, 0.7175, math.nan], "Land %": [80.9, 87.59, 93.2, 99.3],
        "Accuracy %": [91.27, 94.39, 96.62, 99.3],
    },
    index=pd.Index([8, 16, 32, 64], name="patch size"),
)
STUDY_TABLE4 = pd.DataFrame(
    {"RGB F1": [0.716, 0.7009, 0.4756, math.nan], "All bands F1": [0.773, 0.7821, 0.7175, math.nan]},
    index=pd.Index([8, 16, 32, 64], name="patch size"),
)
#: Table 5: logistic regression on a random pixel split (not the FCN's lakes). Rows true, columns predicted.
STUDY_TABLE5 = pd.DataFrame(
    [[18602, 10618], [2957, 430798]],
    index=["true water", "true land"], columns=["predicted water", "predicted land"],
)
STUDY_TABLE5_F1 = 0.7326
STUDY_TABLE6 = pd.DataFrame(
    {"16 x 16 F1": [0.7821, 0.7535], "32 x 32 F1": [0.7175, 0.1926]},
    index=pd.Index(["fcn", "unet"], name="model"),
)
