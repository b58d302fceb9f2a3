"""Tables of the assessment that are not distributed by community (see
tests/test_tenancy.py)."""

GLOBAL_TABLES = {
    "assessment.WeightSet": "weights belong to a district (or the platform), above any community",
}
