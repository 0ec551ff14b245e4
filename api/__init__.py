"""The monitoring API (FastAPI) and dashboard for remote staff."""
