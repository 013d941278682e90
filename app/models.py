"""Every domain's models, imported so that Alembic sees one metadata."""

from app.db import Base
from app.members.models import Member, member_organisation
from app.organisations.models import Organisation

__all__ = ["Base", "Member", "Organisation", "member_organisation"]
