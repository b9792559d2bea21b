"""Database models, one module per area; importing this registers them all."""

from madoguchi.models.base import Base
from madoguchi.models.catalogue import ProcedureVersion

__all__ = ["Base", "ProcedureVersion"]
