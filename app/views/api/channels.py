"""/api/v1 channels with their connection (adapter, masked config, webhook URL) and mappings."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from app.models import Channel
from app.schemas.channels import ChannelIn, ChannelOut, ChannelPatch, MappingIn, MappingOut
from app.services import records
from app.services.channels import mappings
from app.services.channels import records as channel_records
from app.services.db import committed
from app.views.api.access import actor
from app.views.api.bodies import json_body
from app.views.api.lists import paginate
from app.views.api.routing import api_route


@api_route("/v1/channels", "GET", summary="List channels", tag="Channels", response=ChannelOut, many=True)
def list_channels():
    return paginate(select(Channel).order_by(Channel.code), channel_records.public_dict)


@api_route("/v1/channels", "POST", summary="Create a channel", tag="Channels", body=ChannelIn,
           response=ChannelOut, status=201)
def create_channel():
    channel = committed(channel_records.create, json_body(), actor())
    channel_records.connection_changed(channel)
    return jsonify(channel_records.public_dict(channel)), 201


@api_route("/v1/channels/<code>", "GET", summary="One channel", tag="Channels", response=ChannelOut)
def get_channel(code: str):
    return jsonify(channel_records.public_dict(records.get(channel_records.CHANNEL_CONNECTIONS, code)))


@api_route("/v1/channels/<code>", "PATCH", summary="Change a channel", tag="Channels", body=ChannelPatch,
           response=ChannelOut)
def update_channel(code: str):
    channel = committed(channel_records.update, code, json_body(), actor())
    channel_records.connection_changed(channel)
    return jsonify(channel_records.public_dict(channel))


@api_route("/v1/channels/<code>/mappings", "GET", summary="A channel's mappings", tag="Channels",
           response=MappingOut, many=True)
def list_mappings(code: str):
    channel = records.get(channel_records.CHANNEL_CONNECTIONS, code)
    return paginate(mappings.query(channel.id, request.args.get("kind")), mappings.mapping_dict)


@api_route("/v1/channels/<code>/mappings", "POST", summary="Map a channel value to ours (creates or replaces)",
           tag="Channels", body=MappingIn, response=MappingOut, status=201)
def put_mapping(code: str):
    return jsonify(mappings.mapping_dict(committed(mappings.set_mapping, code, json_body(), actor()))), 201


@api_route("/v1/channels/<code>/mappings/<int:mapping_id>", "DELETE", summary="Remove a mapping", tag="Channels",
           status=204)
def delete_mapping(code: str, mapping_id: int):
    committed(mappings.delete_mapping, code, mapping_id, actor())
    return "", 204
