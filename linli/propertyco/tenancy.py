"""Tables of the 红黑榜 that are not keyed by community (see tests/test_tenancy.py)."""

GLOBAL_TABLES = {
    "propertyco.Criteria": "the city's published scoring rule: a few versioned rows",
    "propertyco.Board": "a street's quarter, above the community level (scores carry community_id)",
}
