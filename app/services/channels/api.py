"""The `api` adapter: the channel pushes orders to /api/v1/orders itself; nothing flows back
through a connector (webhooks do that)."""

from __future__ import annotations

from app.services.channels.base import ChannelConnector
from app.services.channels.config import ApiConfig


class ApiConnector(ChannelConnector):
    name = "api"
    title = "Packline API"
    config_model = ApiConfig
