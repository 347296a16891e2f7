"""Channels, cargo companies and denial reasons: the small reference data orders and shipping
use, as record kinds of `services.records`. A cargo company's adapter must accept its config,
or every label job for it would fail."""

from __future__ import annotations

from typing import Any

from app.models import CargoCompany, Channel, DenialReason
from app.schemas.catalog import (
    CargoCompanyIn,
    CargoCompanyPatch,
    ChannelIn,
    ChannelPatch,
    DenialReasonIn,
    DenialReasonPatch,
)
from app.services.carriers import CarrierError, get_adapter
from app.services.records import Kind
from app.services.representations import channel_dict, denial_reason_dict


def _cargo_company(company: CargoCompany) -> dict[str, Any]:
    # Unlike its API answer (config_keys only), the record in CargoCompanyIn's shape has the config.
    return {"code": company.code, "name": company.name, "adapter": company.adapter,
            "config": dict(company.config or {}), "active": company.active}


def _check_adapter(body: dict[str, Any]) -> dict[str, str]:
    try:
        get_adapter(body["adapter"], body["config"])
    except CarrierError as exc:
        return {"config": str(exc)}
    return {}


CHANNELS = Kind(Channel, "code", ChannelIn, ChannelPatch, "channel", channel_dict)
CARGO_COMPANIES = Kind(CargoCompany, "code", CargoCompanyIn, CargoCompanyPatch, "cargo company", _cargo_company,
                       check=_check_adapter)
DENIAL_REASONS = Kind(DenialReason, "code", DenialReasonIn, DenialReasonPatch, "denial reason", denial_reason_dict)
