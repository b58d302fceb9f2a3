"""The starter category tree, from urban-management practice (城市管理部件事件分类,
12345 hotline categories). Staff edit it in the admin afterwards; this only seeds it."""

from __future__ import annotations

import threading
import time
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_noop

from linli.requests.models import Category, UnitKind

P, G, C, D = UnitKind.PROPERTY, UnitKind.GRID, UnitKind.COMMUNITY, UnitKind.DEPARTMENT

# Names are marked with gettext_noop (stored in Chinese, unchanged) so the catalogue
# keeps their English for |sys_label.
# (code, name, keywords, kind, department specialty, response h, plan d, feedback d)
Leaf = tuple[str, str, str, str, str, int, int, int]
TREE: list[tuple[str, str, list[Leaf]]] = [
    ("env", gettext_noop("市容环境"), [
        ("env-garbage", gettext_noop("垃圾清运不及时"), "垃圾 清运 异味 垃圾桶 满溢", P, "", 24, 3, 7),  # noqa: E501
        ("env-clutter", gettext_noop("楼道杂物/乱堆乱放"), "杂物 堆放 楼道 占用", G, "", 24, 3, 7),
        ("env-ads", gettext_noop("小广告/乱张贴"), "小广告 张贴 涂写", D, "城管", 24, 3, 7),
        ("env-stall", gettext_noop("占道经营/流动摊贩"), "摊贩 占道 夜市", D, "城管", 24, 3, 7),
    ]),
    ("facility", gettext_noop("公用设施"), [
        ("fac-light", gettext_noop("路灯/楼道灯损坏"), "路灯 楼道灯 不亮 灯坏", P, "", 24, 3, 5),
        ("fac-elevator", gettext_noop("电梯故障"), "电梯 困人 故障 停运", P, "", 2, 2, 3),
        ("fac-water", gettext_noop("供排水/管道堵塞"), "漏水 堵塞 下水道 停水", P, "", 12, 3, 5),
        ("fac-fitness", gettext_noop("健身器材/公共设施损坏"), "健身器材 座椅 设施", G, "", 24, 3, 7),  # noqa: E501
    ]),
    ("traffic", gettext_noop("道路交通"), [
        ("tr-parking", gettext_noop("乱停车/占用消防通道"), "停车 消防通道 占道", D, "交通", 24, 3, 7),  # noqa: E501
        ("tr-road", gettext_noop("道路破损/井盖缺失"), "路面 坑洼 井盖", D, "住建", 12, 3, 7),
        ("tr-ebike", gettext_noop("电动车停放/飞线充电"), "电动车 充电 飞线", G, "", 12, 3, 7),
    ]),
    ("green", gettext_noop("园林绿化"), [
        ("gr-tree", gettext_noop("树木修剪/倒伏"), "树木 修剪 倒伏 树枝", P, "", 24, 3, 7),
        ("gr-lawn", gettext_noop("毁绿种菜/绿地被占"), "绿地 种菜 毁绿", G, "", 24, 3, 7),
    ]),
    ("housing", gettext_noop("房屋/物业"), [
        ("ho-leak", gettext_noop("房屋渗漏/外墙问题"), "渗水 漏水 外墙 屋顶", P, "", 24, 3, 7),
        ("ho-service", gettext_noop("物业服务质量"), "物业 服务 保安 保洁", C, "", 24, 3, 7),
        ("ho-renovation", gettext_noop("违规装修/违章搭建"), "违建 装修 搭建", D, "城管", 24, 3, 7),
    ]),
    ("dispute", gettext_noop("邻里纠纷"), [
        ("di-noise", gettext_noop("噪音扰民"), "噪音 吵 装修声 广场舞", G, "", 24, 3, 7),
        ("di-pet", gettext_noop("宠物扰民/不文明养犬"), "狗 宠物 犬 粪便", G, "", 24, 3, 7),
        ("di-other", gettext_noop("其他邻里矛盾"), "矛盾 纠纷 邻居", C, "", 24, 3, 7),
    ]),
    ("safety", gettext_noop("安全隐患"), [
        ("sa-fire", gettext_noop("消防隐患"), "消防 灭火器 堵塞 易燃", G, "", 2, 1, 3),
        ("sa-falling", gettext_noop("高空坠物/外墙脱落"), "坠物 脱落 高空", P, "", 2, 1, 3),
        ("sa-gas", gettext_noop("燃气隐患"), "燃气 煤气 泄漏", D, "住建", 2, 1, 3),
    ]),
    ("livelihood", gettext_noop("养老/民生"), [
        ("li-elderly", gettext_noop("独居老人关爱/助餐"), "老人 独居 助餐 看护", C, "", 24, 3, 7),
        ("li-aid", gettext_noop("低保/救助咨询"), "低保 救助 困难", D, "民政", 24, 3, 7),
        ("li-market", gettext_noop("食品安全/市场秩序"), "食品 过期 价格", D, "市场监管", 24, 3, 7),
    ]),
]  # fmt: skip


def ensure_categories() -> list[Category]:
    """Create the starter tree if missing (idempotent, keeps admin edits)."""
    out: list[Category] = []
    for i, (code, name, leaves) in enumerate(TREE):
        top, _c = Category.objects.get_or_create(
            code=code, defaults={"name": name, "order": (i + 1) * 10, "responsible_kind": C}
        )
        out.append(top)
        for j, (lcode, lname, kw, kind, spec, resp, plan, fb) in enumerate(leaves):
            leaf, _c = Category.objects.get_or_create(
                code=lcode,
                defaults={
                    "parent": top,
                    "name": lname,
                    "keywords": kw,
                    "responsible_kind": kind,
                    "department_specialty": spec,
                    "response_hours": resp,
                    "plan_working_days": plan,
                    "feedback_working_days": fb,
                    "order": j + 1,
                },
            )
            out.append(leaf)
    return out


# ---------------------------------------------------------------- per-process cache

# The category tree is small and changes rarely (admin edits): the hot paths (submit,
# Open311) read it from this cache. This process's edits drop it at once (signals);
# other processes see them after at most CACHE_SECONDS.
CACHE_SECONDS = 60.0


class _Tree:
    def __init__(self) -> None:
        cats = list(Category.objects.select_related("parent").order_by("order", "code"))
        self.by_code = {c.code: c for c in cats if c.is_active}
        self.with_active_children = {c.parent_id for c in cats if c.is_active and c.parent_id}


_cache: tuple[float, _Tree] | None = None
_lock = threading.Lock()


def _tree() -> _Tree:
    global _cache
    now = time.monotonic()
    entry = _cache
    if entry is not None and now - entry[0] < CACHE_SECONDS:
        return entry[1]
    tree = _Tree()
    with _lock:
        _cache = (now, tree)
    return tree


def clear_cache(*args: Any, **kwargs: Any) -> None:
    global _cache
    with _lock:
        _cache = None


def active_by_code(code: str) -> Category | None:
    """The active category with ``code`` (shared, read-only instance), or None."""
    return _tree().by_code.get(code)


def has_active_children(category_id: int) -> bool:
    return category_id in _tree().with_active_children


post_save.connect(clear_cache, sender=Category, dispatch_uid="category_cache_save")
post_delete.connect(clear_cache, sender=Category, dispatch_uid="category_cache_delete")


def active_leaves() -> list[Category]:
    """Every active leaf (a category a request can be filed under), in tree order."""
    tree = _tree()
    return [
        c
        for c in tree.by_code.values()
        if c.parent_id is not None and c.pk not in tree.with_active_children
    ]
