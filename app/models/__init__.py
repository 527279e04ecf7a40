"""Every table, imported so that ``metadata`` knows them all (Alembic reads it)."""

from app.models.audit import AuditEvent
from app.models.auth import RefreshToken
from app.models.broadcasts import Broadcast, BroadcastAcknowledgement, BroadcastTarget
from app.models.cameras import Camera
from app.models.certification_criteria import CriteriaSet
from app.models.certifications import CertificateCounter, Certification, CertificationEvent
from app.models.changes import Change
from app.models.clients import Client
from app.models.competitions import Competition, CompetitionEntry
from app.models.drills import Drill
from app.models.exemplary_models import ExemplaryModel
from app.models.fire_equipment import FireEquipment
from app.models.fire_teams import FireTeam
from app.models.footage_requests import CustodyEvent, FootageRequest, FootageRequestItem
from app.models.group_members import GroupMember
from app.models.groups import GroupResidentialGroup, SelfManagedGroup
from app.models.idempotency import IdempotencyKey
from app.models.neighbourhoods import Neighbourhood
from app.models.report_updates import ReportUpdate
from app.models.reports import Report
from app.models.residential_groups import ResidentialGroup
from app.models.units import Province, Ward
from app.models.users import User

__all__ = [
    "AuditEvent",
    "Broadcast",
    "BroadcastAcknowledgement",
    "BroadcastTarget",
    "Camera",
    "CertificateCounter",
    "Certification",
    "CertificationEvent",
    "Change",
    "Client",
    "Competition",
    "CompetitionEntry",
    "CriteriaSet",
    "CustodyEvent",
    "Drill",
    "ExemplaryModel",
    "FireEquipment",
    "FireTeam",
    "FootageRequest",
    "FootageRequestItem",
    "GroupMember",
    "GroupResidentialGroup",
    "IdempotencyKey",
    "Neighbourhood",
    "Province",
    "RefreshToken",
    "Report",
    "ReportUpdate",
    "ResidentialGroup",
    "SelfManagedGroup",
    "User",
    "Ward",
]
