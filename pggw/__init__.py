"""pggw: a PostgreSQL gateway for Cognite Data Fusion."""

__version__ = "0.1.0"
