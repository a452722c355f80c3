"""``twistd pggw``: the gateway. Kept tiny: no reactor import, everything lazy."""

from __future__ import annotations

from typing import Any

from twisted.application.service import IServiceMaker
from twisted.plugin import IPlugin
from zope.interface import implementer

from pggw.config import Options


@implementer(IServiceMaker, IPlugin)
class _GatewayMaker:
    tapname = "pggw"
    description = "PostgreSQL gateway for Cognite Data Fusion."
    options = Options

    def makeService(self, options: Options) -> Any:  # noqa: N802 - Twisted's name
        from pggw.service import make_service

        return make_service(options.config())


pggw = _GatewayMaker()
