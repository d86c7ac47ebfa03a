"""A three-person settlement worked by hand from tests/fixtures/policy_simple.yaml."""

from __future__ import annotations

import numpy as np
import pytest

from microsim import codes
from microsim.policy.arrays import build_arrays
from microsim.policy.load import load_policy
from microsim.settlement import check_conservation, settle
from tests.builders import build, household, person

B, CII, MA, SUP, ACC, OOP = range(6)


@pytest.fixture(scope="module")
def settled(request):
    from tests.conftest import FIXTURES
    policy = build_arrays(load_policy(FIXTURES / "policy_simple.yaml"))
    hh, ps, ev = build([
        household("urban", "general", members=[
            # A: resident, one tertiary admission: 21,000 policy-range, 1,000 class B, 2,000 out of catalogue.
            person("urrbmi", 40, admissions=[("tertiary", 21000, 1000, 2000)]),
            # C: employee, wage 60,000; secondary admission 3,000 + 300 class B; outpatient 1,000 secondary.
            person("uebmi_employed", 45, wage=60000,
                   admissions=[("secondary", 3000, 300, 0)],
                   outpatient={"general_secondary": (1000, 0, 0)}),
        ]),
        household("rural", "dibao", income=8000, consumption=9000, members=[
            # B: resident of a 低保 household, two admissions and primary outpatient care.
            person("urrbmi", 70, admissions=[("secondary", 8000, 0, 0), ("tertiary", 30000, 2000, 0)],
                   outpatient={"general_primary": (400, 0, 0)}),
        ]),
    ])
    claims = settle(policy, hh, ps, ev, seed=1, replicate=0)
    return ev, claims


def test_person_a_resident_general(settled):
    ev, c = settled
    # Basic: deductible 1,000 (tertiary); 50% of 21,000 - 1,000 = 10,000.
    # CII: policy-range residual 11,000 passes the 10,000 threshold by 1,000; 60% = 600.
    # OOP: 11,000 - 600 = 10,400 policy-range + 1,000 class B + 2,000 out of catalogue = 13,400.
    np.testing.assert_allclose(c.admission_paid[0], [10000, 600, 0, 0, 0, 13400])


def test_person_c_employee_with_account(settled):
    ev, c = settled
    # Basic inpatient: deductible 500; 85% of 2,500 = 2,125; residual 875 + 300 class B.
    # Account credit: 2% x 60,000 = 1,200; pays 875 + 300 = 1,175 of the admission first.
    np.testing.assert_allclose(c.admission_paid[1], [2125, 0, 0, 0, 1175, 0])
    # Outpatient secondary 1,000: deductible 200, 60% of 800 = 480; residual 520;
    # the account's last 25 yuan pay part of it; 495 out of pocket.
    k = codes.OUTPATIENT_KIND.index("general_secondary")
    np.testing.assert_allclose(c.outpatient_paid[1, k], [480, 0, 0, 0, 25, 495])
    # Financing: employer 6% and employee 2% of 60,000 (inside the 36,000-180,000 base range).
    np.testing.assert_allclose(c.finance[1, [codes.FIN_EMPLOYER, codes.FIN_EMPLOYEE]], [3600, 1200])


def test_person_b_dibao_resident(settled):
    ev, c = settled
    # Admission 1 (secondary 8,000): deductible 500, 70% of 7,500 = 5,250; residual 2,750.
    # Admission 2 (tertiary 30,000 + 2,000 class B): deductible 1,000, 50% of 29,000 = 14,500;
    #   residual 15,500.
    # CII with the 低保 tilt: threshold 10,000 x 0.5 = 5,000, rate 60% + 5 = 65%, no cap.
    #   Cumulative base 2,750 after admission 1 (below 5,000): 0.
    #   After admission 2: 18,250; 13,250 above the threshold x 65% = 8,612.50; residual 6,887.50.
    # Assistance (低保): 70% of policy-range residuals: 1,925 (adm 1), 4,821.25 (adm 2).
    # OOP: 825 (adm 1); 2,066.25 + 2,000 class B = 4,066.25 (adm 2).
    np.testing.assert_allclose(c.admission_paid[2], [5250, 0, 1925, 0, 0, 825])
    np.testing.assert_allclose(c.admission_paid[3], [14500, 8612.5, 4821.25, 0, 0, 4066.25])
    # Outpatient primary 400: 50% = 200 (within the 300 cap); assistance 70% of 200 = 140; OOP 60.
    k = codes.OUTPATIENT_KIND.index("general_primary")
    np.testing.assert_allclose(c.outpatient_paid[2, k], [200, 0, 140, 0, 0, 60])
    # Contribution 350: assistance pays 70% (245), the household 105; subsidy 610.
    np.testing.assert_allclose(
        c.finance[2, [codes.FIN_INDIVIDUAL, codes.FIN_ASSISTED, codes.FIN_SUBSIDY]], [105, 245, 610])
    assert c.group.tolist() == [0, codes.DIBAO]


def test_conservation_of_the_three(settled):
    ev, c = settled
    assert check_conservation(ev, c) < 1e-9
