"""Roles and the permissions each grants, declared once (the API, the CLI and the view read this list).

Every grant is a role on a subtree of the graph (site, building or floor); the permissions below
hold only inside that subtree. Reading what is in scope is implied by every role.
"""

from __future__ import annotations

from enum import StrEnum

from twin.catalogue import Label


class Role(StrEnum):
    """A job in the property company, or a machine's."""

    ADMIN = "admin"
    OPERATOR = "operator"
    INSPECTOR = "inspector"
    RESPONDER = "responder"
    FINANCE = "finance"
    VENDOR = "vendor"
    VIEWER = "viewer"


class Permission(StrEnum):
    """One thing a role lets its holder do inside its scope."""

    GRAPH_WRITE = "graph.write"
    ALARM_ACK = "alarm.ack"
    TICKET_WRITE = "ticket.write"
    INSPECTION_WRITE = "inspection.write"
    BILLING_READ = "billing.read"
    BILLING_WRITE = "billing.write"
    PII_READ = "pii.read"
    """See residents' personal data unmasked (each such read is recorded with its reason)."""
    IMPORT_RUN = "import.run"
    AUDIT_READ = "audit.read"
    USER_ADMIN = "user.admin"
    EMERGENCY_CREATE = "emergency.create"
    TELEMETRY_PUBLISH = "telemetry.publish"


ROLE_LABELS: dict[Role, Label] = {
    Role.ADMIN: Label("管理员", "Administrator", "#7209b7"),
    Role.OPERATOR: Label("指挥中心值班员", "Command-center operator", "#3a0ca3"),
    Role.INSPECTOR: Label("巡检员", "Inspector", "#4361ee"),
    Role.RESPONDER: Label("应急救援", "Emergency responder", "#d62828"),
    Role.FINANCE: Label("收费员", "Finance clerk", "#2a9d8f"),
    Role.VENDOR: Label("维保单位", "Maintenance vendor", "#e9c46a"),
    Role.VIEWER: Label("只读", "Viewer", "#adb5bd"),
}

PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset(
        {
            Permission.ALARM_ACK,
            Permission.TICKET_WRITE,
            Permission.BILLING_READ,
            Permission.EMERGENCY_CREATE,
            Permission.INSPECTION_WRITE,
        }
    ),
    Role.INSPECTOR: frozenset({Permission.TICKET_WRITE, Permission.INSPECTION_WRITE}),
    Role.RESPONDER: frozenset(),
    Role.FINANCE: frozenset({Permission.BILLING_READ, Permission.BILLING_WRITE, Permission.PII_READ}),
    Role.VENDOR: frozenset({Permission.TICKET_WRITE}),
    Role.VIEWER: frozenset(),
}

SEES_BILLING = frozenset({Role.ADMIN, Role.OPERATOR, Role.FINANCE, Role.VIEWER})
"""Responders, inspectors and vendors never see bills."""
