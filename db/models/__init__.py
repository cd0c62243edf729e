"""Every model, importable from one place."""

from db.models.alert import Alert, Notification
from db.models.job import JobRecord
from db.models.people import ApiToken, Organization, User, UserRole
from db.models.ppa import Ppa, PpaTransition
from db.models.work_item import WorkItem

__all__ = ["Alert", "ApiToken", "JobRecord", "Notification", "Organization", "Ppa", "PpaTransition", "User",
           "UserRole", "WorkItem"]
