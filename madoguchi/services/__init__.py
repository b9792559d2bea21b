"""The service layer: what views call to read and change data."""

from madoguchi.services.catalogue import CatalogueEntry, catalogue_entries, catalogue_entry

__all__ = ["CatalogueEntry", "catalogue_entries", "catalogue_entry"]
