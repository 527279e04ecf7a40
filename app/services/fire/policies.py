"""Fire safety's shared rules: who sees and does what, what they see of a leader, local days.

Teams, equipment, drills and competitions all place their rows by
``province_code``, ``ward_code`` and ``neighbourhood_id``; who sees them is
``records`` (``by_unit``), and the policies here are the one place that says
what each role may do."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

from app.errors import ValidationFailed
from app.security import Principal, Role

# Vietnam keeps UTC+7 all year: "today", a drill's day and due dates are local days.
VIETNAM = timezone(timedelta(hours=7), "ICT")


def today() -> date:
    """Today's date in Vietnam."""
    return datetime.now(VIETNAM).date()


def rule_violation(rule: str, field: str, message: str) -> ValidationFailed:
    """A 422 naming the domain rule (``rule``) and the field it concerns (``errors``)."""
    return ValidationFailed.field(("body", field), message, rule, rule=rule)


# --- who sees and does what ------------------------------------------------------


def can_manage_team(
    principal: Principal, ward_code: str, neighbourhood_id: uuid.UUID
) -> str | None:
    """Why ``principal`` may not set up or change teams here (None: it may)."""
    role = principal.role
    if role is Role.ADMIN:
        return None
    if role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        return None
    if role is Role.NEIGHBOURHOOD_HEAD and principal.neighbourhood_id == neighbourhood_id:
        return None
    if role is Role.GROUP_LEADER:
        return (
            "A group leader records drills and equipment for their team; the neighbourhood "
            "head or the ward's officers set up and change teams."
        )
    if role in (Role.WARD_OFFICER, Role.NEIGHBOURHOOD_HEAD):
        return "You can manage fire teams only in your own ward or neighbourhood."
    return "Only ward officers and neighbourhood heads manage fire teams."


def can_record_for_team(principal: Principal, team: Any) -> str | None:
    """Why ``principal`` may not record drills or equipment for ``team`` (None: it may)."""
    if principal.role is Role.GROUP_LEADER:
        if principal.kind == "user" and team.leader_user_id == principal.subject:
            return None
        return "A group leader records drills and equipment only for the team they lead."
    return can_manage_team(principal, team.ward_code, team.neighbourhood_id)


def sees_leader_phone(principal: Principal, ward_code: str, leader_user_id: Any) -> bool:
    """Whether the leader's phone is shown in full: the ward's officers, admins, the leader."""
    if principal.role is Role.ADMIN:
        return True
    if principal.role is Role.WARD_OFFICER and principal.ward_code == ward_code:
        return True
    return principal.kind == "user" and leader_user_id == principal.subject


def mask_phone(phone: str | None) -> str | None:
    """``0912345678`` → ``09******78``: enough to recognise, not to call."""
    if not phone:
        return phone
    if len(phone) <= 4:
        return "*" * len(phone)
    return phone[:2] + "*" * (len(phone) - 4) + phone[-2:]


def present(principal: Principal, team: Any) -> dict[str, Any]:
    """A team (ORM object or selected row) as the principal may see it."""
    phone = team.leader_phone
    if not sees_leader_phone(principal, team.ward_code, team.leader_user_id):
        phone = mask_phone(phone)
    return {
        "id": team.id,
        "created_at": team.created_at,
        "updated_at": team.updated_at,
        "version": team.version,
        "province_code": team.province_code,
        "ward_code": team.ward_code,
        "neighbourhood_id": team.neighbourhood_id,
        "name": team.name,
        "leader_user_id": team.leader_user_id,
        "leader_member": {"name": team.leader_name, "phone": phone},
        "households": team.households,
        "household_count": team.household_count,
        "public_fire_points": team.public_fire_points,
        "status": team.status,
    }
