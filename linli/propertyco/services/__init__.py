"""Every write of the 红黑榜 (one module per aggregate)."""

from linli.propertyco.services.boards import (
    board_compute,
    board_publish,
    check_quarter,
    register_list,
)
from linli.propertyco.services.records import Item, criteria_publish, inspection_record
from linli.propertyco.services.register import entry_appeal, entry_decide

__all__ = [
    "Item",
    "board_compute",
    "board_publish",
    "check_quarter",
    "criteria_publish",
    "entry_appeal",
    "entry_decide",
    "inspection_record",
    "register_list",
]
