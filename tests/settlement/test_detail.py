"""The parts of each payer's amount (`settle(..., detail=True)`), over random policies and
households: recording them changes no payment, and each payer's parts add up to what it paid.

A payer's parts: critical illness (main base, special-drug track), assistance (stage 1,
stage 2, out-of-pocket cap), supplementary (one per liability), account (own,
family-shared); basic insurance and out of pocket have none.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings

from microsim import codes
from microsim.policy.arrays import build_arrays
from microsim.settlement.settle import DETAIL, DETAIL_PAYER, settle
from tests.builders import build
from tests.strategies import as_policy, households, policies

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_detail_columns_name_their_payers():
    assert len(DETAIL) == 13
    assert [codes.PAYER[p] for p in DETAIL_PAYER] == [d.split(".")[0] for d in DETAIL]


@SETTINGS
@given(policies(), households())
def test_recording_the_parts_changes_no_payment_and_the_parts_add_up(data, hhs):
    q = build_arrays(as_policy(data))
    h, p, e = build(hhs)
    plain = settle(q, h, p, e, seed=5, replicate=0)
    detailed = settle(q, h, p, e, seed=5, replicate=0, detail=True)
    assert plain.admission_detail is None and plain.outpatient_detail is None
    for name in ("admission_paid", "outpatient_paid", "finance", "group", "enrolled"):
        assert getattr(plain, name).tobytes() == getattr(detailed, name).tobytes(), name
    for paid, parts in ((detailed.admission_paid, detailed.admission_detail),
                        (detailed.outpatient_paid, detailed.outpatient_detail)):
        assert (parts >= 0).all()
        for payer in set(DETAIL_PAYER):
            columns = [k for k, x in enumerate(DETAIL_PAYER) if x == payer]
            np.testing.assert_allclose(parts[..., columns].sum(-1), paid[..., payer],
                                       rtol=1e-12, atol=1e-6)
