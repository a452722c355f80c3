"""The CDF REST client: treq requests, token providers, error parsing and classification."""

from pggw.cdf.auth import ClientCredentialsProvider, ITokenProvider, StaticTokenProvider
from pggw.cdf.client import CdfClient, CdfResponse
from pggw.cdf.errors import (
    TRANSIENT_STATUSES,
    CdfConnectionError,
    CdfError,
    TokenError,
    is_transient,
    parse_retry_after,
)

__all__ = [
    "TRANSIENT_STATUSES",
    "CdfClient",
    "CdfConnectionError",
    "CdfError",
    "CdfResponse",
    "ClientCredentialsProvider",
    "ITokenProvider",
    "StaticTokenProvider",
    "TokenError",
    "is_transient",
    "parse_retry_after",
]
