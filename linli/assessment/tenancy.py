"""Tables of the assessment that are not distributed by community (see
tests/test_tenancy.py)."""

GLOBAL_TABLES = {
    "assessment.WeightSet": "weights belong to a district (or the platform), above any community",
}
GLOBAL_TABLES["assessment.UnitMonth"] = (
    "sums over the communities of a street, district or city: above any one community"
)
