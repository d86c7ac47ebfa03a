"""Settlement: every bill of a chunk through the layers of one policy.

Takes: `PolicyArrays`, `Households`, `Persons`, `Events`. Gives: `Claims`
(what each payer paid for each admission and outpatient kind, financing
flows, assistance groups, supplementary enrolment).
"""

from microsim.settlement.settle import Claims, check_conservation, settle

__all__ = ["Claims", "check_conservation", "settle"]
