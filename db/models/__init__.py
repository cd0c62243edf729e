"""Every model, importable from one place."""

from db.models.people import ApiToken, Organization, User, UserRole
from db.models.ppa import Ppa, PpaTransition
from db.models.work_item import WorkItem

__all__ = ["ApiToken", "Organization", "Ppa", "PpaTransition", "User", "UserRole", "WorkItem"]
