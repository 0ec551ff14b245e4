"""Test data, and the writers that make it where a whole year of rows is too big to keep."""
