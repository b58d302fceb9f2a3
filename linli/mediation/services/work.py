"""The mediators' work on an open case: sessions (调解笔录), evidence files and the
agreement (调解协议书: drafted, printed, signed and sealed, then in force)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import PurePath

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.core import idempotency, ratelimit
from linli.core.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from linli.core.notify import Message
from linli.core.textlimit import within
from linli.core.types import Actor
from linli.core.writes import Write, governed_write, insert_or_skip, lock_row
from linli.mediation.models import (
    ACTIVE_STATUSES,
    CONFIRMATION_WINDOW_DAYS,
    Agreement,
    Case,
    Evidence,
    Party,
    Session,
)
from linli.mediation.permissions import can_add_evidence, can_write_agreement, sees_case
from linli.mediation.services._common import (
    EVIDENCE_LIMIT,
    SESSION_LIMIT,
    actor_id,
    party_phones,
    replayed,
)
from linli.mediation.states import CASE

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Type → the first bytes such a file starts with (the browser's claim is not trusted).
EVIDENCE_TYPES: dict[str, tuple[bytes, ...]] = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "application/pdf": ".pdf",
}


def session_record(
    *,
    actor: Actor,
    case: Case,
    held_at: datetime,
    location: str,
    attendees: str,
    notes: str,
    idempotency_key: str = "",
) -> Session:
    """Record a session that took place; the first one moves the case to 调解中.
    Idempotent on ``idempotency_key`` (a double post records one session)."""
    CASE.check(actor, case, "record_session")
    key = idempotency.clean(idempotency_key)
    location = within(location, field="location", limit=100, label=_("地点"))
    attendees = within(attendees, field="attendees", limit=300, label=_("到场人员"))
    notes = within(notes, field="notes", limit=4000, label=_("调解记录"))
    if not location:
        raise ValidationFailed(_("请填写调解地点。"), field="location")
    if not attendees:
        raise ValidationFailed(_("请填写到场人员。"), field="attendees")
    if len(notes) < 5:
        raise ValidationFailed(_("请填写调解记录（至少 5 个字）。"), field="notes")
    now = timezone.now()
    if held_at > now + timedelta(minutes=10):
        raise ValidationFailed(_("调解时间不能晚于现在：请在调解结束后记录。"), field="held_at")
    if held_at < case.opened_at - timedelta(days=1):
        raise ValidationFailed(_("调解时间不能早于案件受理时间。"), field="held_at")
    if key:
        earlier = Session.objects.filter(
            community_id=case.community_id, idempotency_key=key
        ).first()
        if earlier is not None:
            if earlier.case_id != case.pk or earlier.recorded_by_id != getattr(actor, "pk", None):
                raise Conflict(
                    _("该请求编号已被使用，请刷新页面后重试。"), code="idempotency_conflict"
                )
            return earlier
    ratelimit.check(SESSION_LIMIT, user=actor)
    made: list[Session] = []

    def effects(row: Case, w: Write) -> None:
        s = Session(
            community_id=row.community_id,
            case=row,
            held_at=held_at,
            location=location,
            attendees=attendees,
            notes=notes,
            recorded_by_id=actor_id(actor),
            idempotency_key=key,
        )
        if not insert_or_skip(s):
            # A simultaneous post with the same key won: undo this one entirely.
            raise Conflict(_("该调解记录已保存，请刷新页面。"), code="idempotency_conflict")
        made.append(s)
        w.payload.update(session=s.pk)

    CASE.apply(actor=actor, obj=case, action="record_session", effects=effects)
    return made[0]


def _sniff(upload: UploadedFile) -> str:
    head = upload.read(16)
    upload.seek(0)
    for ctype, magics in EVIDENCE_TYPES.items():
        if any(head.startswith(m) for m in magics):
            if ctype == "image/webp" and head[8:12] != b"WEBP":
                continue
            return ctype
    return ""


def evidence_add(
    *,
    actor: Actor,
    case: Case,
    upload: UploadedFile,
    description: str = "",
    idempotency_key: str = "",
) -> Evidence:
    """Keep a file with the case (JPEG, PNG, WebP or PDF, at most 10 MB), stored under
    a random name and served only through the case's permission check."""
    if not sees_case(actor, case):
        raise NotFound()
    if not can_add_evidence(actor, case):
        if case.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再添加证据材料。"))
        raise PermissionDenied(_("只有本案调解员或社区、街道调解负责人可以添加证据材料。"))
    description = within(description, field="description", limit=200, label=_("说明"))
    size = int(upload.size or 0)
    if size <= 0:
        raise ValidationFailed(_("请选择要上传的文件。"), field="file")
    if size > MAX_EVIDENCE_BYTES:
        raise ValidationFailed(_("文件不能超过 10 MB。"), field="file")
    ctype = _sniff(upload)
    if not ctype:
        raise ValidationFailed(_("只能上传 JPG、PNG、WebP 图片或 PDF 文件。"), field="file")
    original = PurePath(upload.name or "file").name[:120]
    key = idempotency.clean(idempotency_key)
    earlier: Evidence | None = replayed(
        Evidence.objects.all(),
        community_id=case.community_id,
        key=key,
        case=case,
        owned=lambda e: e.uploaded_by_id == actor_id(actor),
    )
    if earlier is not None:
        return earlier
    ratelimit.check(EVIDENCE_LIMIT, user=actor)
    with governed_write(
        actor=actor, action="mediation.evidence_added", community_id=case.community_id
    ) as w:
        locked = lock_row(Case.objects.all(), case.pk, community_id=case.community_id)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再添加证据材料。"))
        if key:
            # A simultaneous post with the same key waited on the case lock: answer it
            # with the first one's row.
            same = Evidence.objects.filter(
                community_id=case.community_id, idempotency_key=key, case_id=case.pk
            ).first()
            if same is not None:
                w.record = False
                return same
        upload.name = f"{uuid.uuid4().hex}{EXTENSIONS[ctype]}"
        ev = Evidence.objects.create(
            community_id=case.community_id,
            case=locked,
            file=upload,
            original_name=original,
            content_type=ctype,
            size=size,
            description=description,
            uploaded_by_id=actor_id(actor),
            idempotency_key=key,
        )
        w.target = locked
        w.payload.update(evidence=ev.pk, type=ctype, size=size)
    return ev


# The parts art. 29 asks for, in the order the agreement prints them.
AGREEMENT_PARTS = (
    ("facts", _("纠纷的主要事实")),
    ("disputed_matters", _("争议事项")),
    ("responsibilities", _("各方当事人的责任")),
    ("terms", _("协议内容")),
    ("performance_method", _("履行方式")),
    ("performance_deadline", _("履行期限")),
)
LIMITS = {
    "facts": 2000,
    "disputed_matters": 1000,
    "responsibilities": 1000,
    "terms": 2000,
    "performance_method": 300,
}


def agreement_save(
    *,
    actor: Actor,
    case: Case,
    facts: str,
    disputed_matters: str,
    responsibilities: str,
    terms: str,
    performance_method: str,
    performance_deadline: date | None,
) -> Agreement:
    """Write (or revise) the agreement text before it is signed. Every part the law
    lists must be there, and both sides must be registered as parties; a missing part
    is refused naming all that is missing."""
    if not sees_case(actor, case):
        raise NotFound()
    if not can_write_agreement(actor, case):
        if case.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再修改调解协议。"))
        raise PermissionDenied(_("只有本案调解员或社区、街道调解负责人可以制作调解协议书。"))
    texts = {
        "facts": facts,
        "disputed_matters": disputed_matters,
        "responsibilities": responsibilities,
        "terms": terms,
        "performance_method": performance_method,
    }
    labels = dict(AGREEMENT_PARTS)
    cleaned = {
        k: within(v, field=k, limit=LIMITS[k], label=str(labels[k])) for k, v in texts.items()
    }
    missing = [str(labels[k]) for k, v in cleaned.items() if not v]
    if performance_deadline is None:
        missing.append(str(labels["performance_deadline"]))
    if missing:
        raise ValidationFailed(
            _("调解协议书缺少法定内容：%(parts)s。请补全后再保存。")
            % {"parts": "、".join(missing)},
            field="agreement",
            details={"missing": missing},
        )
    assert performance_deadline is not None
    if performance_deadline < timezone.localdate():
        raise ValidationFailed(_("履行期限不能早于今天。"), field="performance_deadline")
    roles = set(
        Party.objects.filter(community_id=case.community_id, case_id=case.pk).values_list(
            "role", flat=True
        )
    )
    if roles != {Party.Role.APPLICANT, Party.Role.RESPONDENT}:
        raise ValidationFailed(
            _("调解协议书须载明双方当事人：请先登记申请人和被申请人。"), field="parties"
        )
    with governed_write(
        actor=actor, action="mediation.agreement_saved", community_id=case.community_id
    ) as w:
        locked = lock_row(Case.objects.all(), case.pk, community_id=case.community_id)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案，不能再修改调解协议。"))
        current = Agreement.objects.filter(community_id=case.community_id, case_id=case.pk).first()
        if current is not None and current.in_force:
            raise Conflict(_("调解协议书已签名盖章生效，不能再修改。"))
        agreement, created = Agreement.objects.update_or_create(
            community_id=case.community_id,
            case=locked,
            defaults={
                **cleaned,
                "performance_deadline": performance_deadline,
                "drafted_by_id": actor_id(actor),
            },
        )
        w.target = locked
        w.payload.update(created=created, deadline=performance_deadline.isoformat())
    return agreement


def agreement_sign(
    *,
    actor: Actor,
    case: Case,
    signed_on: date | None,
    parties_signed: bool,
    mediator_signed: bool,
    sealed: bool,
) -> Agreement:
    """Record that the printed agreement was signed (or fingerprinted) by every party,
    signed by the mediator and sealed by the committee: it is in force from
    ``signed_on`` (art. 29). The parties are told the 30-day window for judicial
    confirmation (art. 33)."""
    if not sees_case(actor, case):
        raise NotFound()
    if not can_write_agreement(actor, case):
        if case.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案。"))
        raise PermissionDenied(_("只有本案调解员或社区、街道调解负责人可以登记协议签署。"))
    missing = []
    if not parties_signed:
        missing.append(str(_("各方当事人签名或按指印")))
    if not mediator_signed:
        missing.append(str(_("调解员签名")))
    if not sealed:
        missing.append(str(_("人民调解委员会印章")))
    if signed_on is None:
        missing.append(str(_("生效日期")))
    if missing:
        raise ValidationFailed(
            _("调解协议书须经%(parts)s后才生效。") % {"parts": "、".join(missing)},
            field="signatures",
            details={"missing": missing},
        )
    assert signed_on is not None
    if signed_on > timezone.localdate():
        raise ValidationFailed(_("生效日期不能晚于今天。"), field="signed_on")
    if signed_on < timezone.localtime(case.opened_at).date():
        raise ValidationFailed(_("生效日期不能早于案件受理日期。"), field="signed_on")
    with governed_write(
        actor=actor, action="mediation.agreement_signed", community_id=case.community_id
    ) as w:
        locked = lock_row(Case.objects.all(), case.pk, community_id=case.community_id)
        if locked.status not in ACTIVE_STATUSES:
            raise InvalidTransition(_("案件已结案。"))
        agreement = (
            Agreement.objects.select_for_update()
            .filter(community_id=case.community_id, case_id=case.pk)
            .first()
        )
        if agreement is None:
            raise Conflict(_("请先制作调解协议书。"))
        if agreement.in_force:
            raise Conflict(_("调解协议书已生效。"))
        agreement.signed_on = signed_on
        agreement.parties_signed = agreement.mediator_signed = agreement.sealed = True
        agreement.signed_recorded_by_id = getattr(actor, "pk", None)
        agreement.save()
        w.target = locked
        w.payload.update(signed_on=signed_on.isoformat())
        deadline = signed_on + timedelta(days=CONFIRMATION_WINDOW_DAYS)
        body = _(
            "调解协议书已于%(on)s生效。如需司法确认，请双方当事人于%(until)s前共同向人民法院申请。"
        ) % {"on": signed_on.isoformat(), "until": deadline.isoformat()}
        for phone in party_phones(locked):
            w.notify(Message("sms", phone, _("人民调解"), body))
    return agreement
