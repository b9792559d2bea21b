"""The resident's room: the catalogue, filing and their applications."""
