"""Safe-zone certifications' rules of who sees and does what: one place for each role."""

from __future__ import annotations

import uuid

from app.models.certifications import Certification
from app.security import Principal, Role


def can_register(principal: Principal, neighbourhood_id: uuid.UUID) -> str | None:
    """Why ``principal`` may not register ``neighbourhood_id`` (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.NEIGHBOURHOOD_HEAD and principal.neighbourhood_id == neighbourhood_id:
        return None
    return "A neighbourhood head registers only their own neighbourhood."


def can_edit(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not edit, delete or submit this draft (None: it may)."""
    return can_register(principal, certification.neighbourhood_id)


def can_review(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not review or decide this certification (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == certification.ward_code:
        return None
    return "Only officers of the ward review and decide its certifications."


def can_revoke(principal: Principal, certification: Certification) -> str | None:
    """Why ``principal`` may not revoke this certificate (None: it may)."""
    if principal.role is Role.ADMIN:
        return None
    if principal.role is Role.WARD_OFFICER and principal.ward_code == certification.ward_code:
        return None
    if (
        principal.role is Role.PROVINCE_OFFICER
        and principal.province_code == certification.province_code
    ):
        return None
    return "Only officers of the ward or the province revoke its certificates."
