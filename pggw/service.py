"""Build the gateway's services from one :class:`~pggw.config.Config`. No logic lives here."""

from __future__ import annotations

from twisted.application.service import MultiService

from pggw.config import Config


def make_service(config: Config) -> MultiService:
    from pggw.gateway import Gateway

    return Gateway(config).service()
