"""Codes of the data contracts: the integers that households, persons and events carry.

Takes: nothing. Gives: the code tables (name -> integer) used in arrays, in
Parquet microdata and in result coordinates, in one place. A code's position
in its tuple is its integer value.
"""

from __future__ import annotations

RESIDENCE = ("urban", "rural")
URBAN, RURAL = 0, 1

# 一般 general, 特困 extreme-poverty supported, 低保 minimum-living-guarantee,
# 低边 marginal (just above the 低保 line), 防返贫监测 monitored against relapse.
STATUS = ("general", "tekun", "dibao", "dibian", "monitored")
GENERAL, TEKUN, DIBAO, DIBIAN, MONITORED = range(5)
STATUS_ZH = {"general": "一般", "tekun": "特困", "dibao": "低保", "dibian": "低边",
             "monitored": "防返贫监测"}

# Basic medical insurance schemes: UEBMI (职工医保) for employees and retirees,
# URRBMI (城乡居民医保) for everyone else, and the uninsured.
SCHEME = ("uninsured", "uebmi_employed", "uebmi_retired", "urrbmi")
UNINSURED, UEBMI_EMPLOYED, UEBMI_RETIRED, URRBMI = range(4)

SEX = ("male", "female")
MALE, FEMALE = 0, 1

LEVEL = ("primary", "secondary", "tertiary")
PRIMARY, SECONDARY, TERTIARY = range(3)

# Chronic-condition bit flags on persons.
CHRONIC = ("hypertension", "diabetes", "special_chronic", "rare_disease")
HYPERTENSION, DIABETES, SPECIAL_CHRONIC, RARE_DISEASE = 1, 2, 4, 8

# A benefit plan is a scheme as it applies in one residence: before integration
# a region may run different rules for urban (URBMI) and rural (NCMS) residents.
N_PLANS = len(SCHEME) * len(RESIDENCE)


def plan_index(scheme: int, residence: int) -> int:
    """The benefit-plan index of a scheme in a residence."""
    return scheme * len(RESIDENCE) + residence


# Kinds of care, the rows of every claim.
CARE = ("inpatient", "outpatient", "two_disease", "special_chronic", "special_drugs")
INPATIENT, OUTPATIENT, TWO_DISEASE, SPECIAL_CHRONIC_CARE, SPECIAL_DRUGS = range(5)

# The three parts of every bill: 合规 policy-range, 乙类先自付 class-B self-pay,
# 目录外 out-of-catalogue.
PART = ("policy_range", "class_b", "out_of_catalogue")
POLICY_RANGE, CLASS_B, OUT_OF_CATALOGUE = range(3)

# Who pays, in settlement order, the columns of every claim: basic insurance's
# pooled fund (统筹基金), critical-illness insurance (大病保险), medical
# assistance (医疗救助), supplementary insurance (惠民保), the UEBMI individual
# account (个人账户, the person's own savings), and cash out of pocket.
PAYER = ("basic", "critical_illness", "assistance", "supplementary", "account", "out_of_pocket")
BASIC, CRITICAL_ILLNESS, ASSISTANCE, SUPPLEMENTARY, ACCOUNT, OUT_OF_POCKET = range(6)

# Outpatient spending is carried per person and year in these kinds.
OUTPATIENT_KIND = ("general_primary", "general_secondary", "general_tertiary",
                   "hypertension", "diabetes", "special_chronic", "special_drugs")

# Money flows of financing, per person and year. `account_credit` is not a further flow
# but the part of the UEBMI flows credited to the individual account (个人账户划入): the
# account share of the employee contribution, and for retirees the credit the pooled fund
# transfers to their accounts; the pooled fund (统筹基金) keeps the rest.
FINANCE = ("individual", "subsidy", "assisted", "employer", "employee",
           "premium_household", "premium_government", "account_credit")
(FIN_INDIVIDUAL, FIN_SUBSIDY, FIN_ASSISTED, FIN_EMPLOYER, FIN_EMPLOYEE,
 FIN_PREMIUM_HOUSEHOLD, FIN_PREMIUM_GOVERNMENT, FIN_ACCOUNT_CREDIT) = range(8)
