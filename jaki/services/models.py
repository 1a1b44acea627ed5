"""Tables of the public services: every domain's models, and the per-citizen cache of agency answers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from jaki.db import Base
from jaki.services.education.models import SchoolEnrolment  # noqa: F401
from jaki.services.health.models import HealthVisit, Immunisation, JknMembership  # noqa: F401
from jaki.services.permits.models import (  # noqa: F401
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationType,
)
from jaki.services.social_aid.models import AidDisbursement, AidEnrolment, AidProgramme, DtksEntry  # noqa: F401
from jaki.services.tax.models import TaxBill  # noqa: F401


class SectionCache(Base):
    """The last good answer of an agency for one citizen and domain (embedded default; Redis otherwise)."""

    __tablename__ = "svc_section_cache"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(30), primary_key=True)
    as_of: Mapped[datetime]
    payload: Mapped[str] = mapped_column(Text)  # AES-GCM sealed JSON (jaki.services.cache)
