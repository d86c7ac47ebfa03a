"""Where each indicator of the catalogue has a value worked out by hand: (test file, test name)
-> the catalogue keys (indicators, or templates such as `payout_{layer}`) whose values that
test checks against arithmetic in its comments. `tests/metrics/test_catalogue.py` fails when
the catalogue has a key no test here claims, or when a listed test does not exist or does not
name the indicator."""

WORKED = {
    ("tests/metrics/test_ten_households.py",
     "test_totals_and_out_of_pocket"): (
        "population", "households", "cost_per_person", "oop_per_person", "oop_per_household",
        "oop_share_income", "oop_share_consumption", "oop_incidence",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_population_shares_and_consumption"): (
        "income_per_person", "consumption_per_person", "insured_share", "admission_rate",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_what_households_pay_for_cover_over_their_income"): (
        "contributions_share_income", "financing_share_income",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_payments_by_layer_add_up_to_the_cost"): (
        "cost_share_{payer}", "paid_per_person_{layer}", "effective_reimbursement",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_catastrophic_spending_sdg_2024"): (
        "che10", "che25", "che10_income", "che25_income", "che10_households",
        "che25_households", "che25_income_households", "overshoot10", "overshoot25", "mpo10",
        "mpo25",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_catastrophic_spending_by_income_overshoot"): (
        "che10_income_households", "overshoot10_income", "overshoot25_income", "mpo10_income",
        "mpo25_income",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_catastrophic_spending_capacity_to_pay"): (
        "che40_ctp", "che40_ctp_households", "overshoot40_ctp", "mpo40_ctp",
        "capacity_to_pay_per_person",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_catastrophic_spending_sdg_2025"): (
        "sdg2025", "sdg2025_households", "sdg2025_impoverishing", "sdg2025_large",
        "below_societal_poverty_line",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_impoverishment_by_income"): (
        "impoverished{resource_suffix}_{line}", "further_impoverished{resource_suffix}_{line}",
        "poverty_before{resource_suffix}_{line}", "poverty_after{resource_suffix}_{line}",
        "poverty_gap_before{resource_suffix}_{line}",
        "poverty_gap_after{resource_suffix}_{line}",
        "poverty_gap_increase{resource_suffix}_{line}",
        "poverty_gap_index_before{resource_suffix}_{line}",
        "poverty_gap_index_after{resource_suffix}_{line}",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_policy_ratios"): (
        "inpatient_pr_reimbursement", "inpatient_pr_reimbursement_employees",
        "inpatient_pr_reimbursement_residents", "chronic_outpatient_reimbursement",
        "chronic_outpatient_reimbursement_employees",
        "chronic_outpatient_reimbursement_residents", "special_chronic_reimbursement",
        "special_chronic_reimbursement_employees", "special_chronic_reimbursement_residents",
        "chronic_outpatient_reimbursement_primary", "comprehensive_coverage",
        "supplementary_payout_share", "supplementary_enrolment", "supplementary_loss_ratio",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_policy_ratios_of_residents_and_admissions"): (
        "inpatient_pr_basic_residents", "chronic_outpatient_reimbursement_primary_residents",
        "comprehensive_coverage_inpatient",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_fund_balances"): (
        "insured_{fund}", "fund_revenue_{fund}", "fund_subsidies_{fund}",
        "fund_expenditure_{fund}", "fund_balance_{fund}", "reserve_months_{fund}",
        "expenditure_per_insured_{fund}", "payout_critical_illness_{fund}",
        "assistance_expenditure", "assistance_contribution_share", "assistance_balance_share",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_fund_members_contributions_and_balances"): (
        "fund_contributions_{fund}", "fund_individual_contributions_urrbmi",
        "fund_balance_share_{fund}", "fund_opening_balance_{fund}",
        "fund_closing_balance_{fund}", "revenue_per_insured_{fund}", "insured_total",
        "insured_uebmi_employed", "insured_uebmi_retired", "fund_revenue_pooled_uebmi",
        "fund_expenditure_pooled_uebmi", "account_revenue_uebmi", "account_expenditure_uebmi",
    ),
    ("tests/engine/test_years.py",
     "test_carrying_worked_by_hand"): (
        "fund_expenditure_growth_{fund}",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_admissions_and_their_cost_by_fund"): (
        "admissions_per_insured_{fund}", "cost_per_admission_{fund}",
        "admissions_per_insured_uebmi_employed", "admissions_per_insured_uebmi_retired",
        "inpatient_catalogue_fund_ratio_{fund}", "inpatient_actual_reimbursement_{fund}",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_payouts_by_layer_and_critical_illness_beneficiaries"): (
        "cii_beneficiaries_{fund}", "cii_payment_per_beneficiary_{fund}", "payout_{layer}",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_medical_assistance_financing_and_balances"): (
        "assistance_per_person", "assistance_financing", "assistance_opening_balance",
        "assistance_closing_balance",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_concentration_and_kakwani_indices"): (
        "ci_oop", "erreygers_che10", "kakwani_financing", "gini_income",
        "gini_income_after_oop",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_concentration_gini_and_kakwani_indices_by_consumption_and_contributions"): (
        "ci_oop_by_consumption", "kakwani_oop", "kakwani_contributions",
        "kakwani_financing_by_consumption", "gini_consumption", "gini_consumption_after_oop",
    ),
    ("tests/metrics/test_ten_households.py",
     "test_erreygers_indices_of_every_catastrophic_measure"): (
        "erreygers_che25", "erreygers_che10_income", "erreygers_che25_income",
        "erreygers_che10_by_consumption", "erreygers_che40_ctp", "erreygers_sdg2025",
    ),
    ("tests/metrics/test_adept.py", "test_grid_headcount_overshoot_and_mpo_by_hand"): (
        "che_grid_{threshold}", "che_grid_{threshold}_income", "overshoot_grid_{threshold}",
        "overshoot_grid_{threshold}_income", "mpo_grid_{threshold}",
        "mpo_grid_{threshold}_income",
    ),
    ("tests/metrics/test_adept.py", "test_winners_and_losers_by_hand"): (
        "winners_share", "winners_share_{decile}", "losers_share", "losers_share_{decile}",
        "unchanged_share", "unchanged_share_{decile}", "winners_households",
        "winners_households_{decile}", "losers_households", "losers_households_{decile}",
        "payment_change", "payment_change_{decile}", "oop_change", "oop_change_{decile}",
    ),
}
