"""Channel connectors (SPEC §13) by adapter name, and the config rules the API and admin share.

Modules: `base` (contract), `config` (per-connector pydantic configs, secret masking),
`shopify`, `woocommerce`, `trendyol`, `api` (connectors); `records` (the channel record with its
connection), `mappings`, `intake` (webhooks and pulls into the inbox, inbox into orders),
`status` (status back), `inventory` (stock out).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError

from app.services.channels.api import ApiConnector
from app.services.channels.base import ChannelConnector, ChannelError, MappingProblem
from app.services.channels.shopify import ShopifyConnector
from app.services.channels.trendyol import TrendyolConnector
from app.services.channels.woocommerce import WooCommerceConnector

CONNECTORS: dict[str, type[ChannelConnector]] = {
    c.name: c for c in (ApiConnector, ShopifyConnector, WooCommerceConnector, TrendyolConnector)}

__all__ = ["CONNECTORS", "ChannelConnector", "ChannelError", "MappingProblem", "config_problems", "connector_for",
           "label_task"]

LABEL_TASK = "app.tasks.channels.fetch_label"


def label_task(channel: Any) -> str | None:
    """The hook of `package_commands/channel_labels.py`: the dotted path of the RQ task that
    fetches this channel's marketplace label for a shipment id, or None when its connector
    prints no labels (staff then scan the label's barcode)."""
    connector = CONNECTORS.get(getattr(channel, "adapter", None) or "api")
    if connector is None or connector.fetch_label is ChannelConnector.fetch_label:
        return None
    return LABEL_TASK


def connector_for(adapter: str, config: Mapping[str, Any] | None) -> ChannelConnector:
    """The connector for a stored channel; a config that no longer validates is a permanent
    ChannelError naming the field, so jobs record it where an admin sees it."""
    cls = CONNECTORS.get(adapter)
    if cls is None:
        raise ChannelError(_('Unknown channel adapter %(adapter)s.', adapter=repr(adapter)), transient=False)
    try:
        return cls(config or {})
    except ValidationError as exc:
        problems = config_problems(adapter, config)
        raise ChannelError(_("The channel's configuration is not valid: %(problems)s", problems="; ".join(
            f"{k}: {v}" for k, v in problems.items())), transient=False) from exc


def config_problems(adapter: str, config: Any) -> dict[str, str]:
    """{"config.<field>": message} for a config the adapter would refuse; {} when it is fine."""
    cls = CONNECTORS.get(adapter)
    if cls is None:
        return {"adapter": _('Choose one of: %(options)s.', options=", ".join(CONNECTORS))}
    if not isinstance(config, dict):
        return {"config": _('Must be a JSON object.')}
    try:
        cls.config_model.model_validate(config)
    except ValidationError as exc:
        problems = {}
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            message = _('Required.') if error["type"] == "missing" else (
                _("Not a setting of this kind of channel: remove it.") if error["type"] == "extra_forbidden"
                else error["msg"])
            problems[f"config.{where}" if where else "config"] = message
        return problems
    return {}
