"""Import every area's models so the metadata (and Alembic) knows all tables."""

from webapp.applications.models import Application, Attachment, Figure, FormalCheck, Receipt, RosterEntry  # noqa: F401
from webapp.audit.models import AuditEvent  # noqa: F401
from webapp.auth.models import LoginThrottle, User  # noqa: F401
from webapp.campaigns.models import Campaign, Program  # noqa: F401
from webapp.exports.models import NoticeDraft  # noqa: F401
from webapp.inspection.models import NationalTarget, SpotCheck, SpotCheckEntry, UnitTarget  # noqa: F401
from webapp.payments.models import Payment  # noqa: F401
from webapp.publicity.models import Objection, PublicityRound, RegisterEntry  # noqa: F401
from webapp.results.models import Decision, ResultRun  # noqa: F401
from webapp.reviews.models import Assignment, ExclusionRequest, Message, Score  # noqa: F401
from webapp.units.models import Unit  # noqa: F401
