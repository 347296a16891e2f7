"""/api/v1/webhooks: subscriptions, their deliveries and redelivery (admin tokens only)."""

from __future__ import annotations

from flask import jsonify, request

from app.schemas.webhooks import (
    DeliveryDetailOut,
    DeliveryOut,
    RedeliveredOut,
    WebhookIn,
    WebhookOut,
    WebhookUpdate,
)
from app.services.actors import Actor
from app.services.webhooks import subscriptions
from app.views.api.access import actor, require_admin
from app.views.api.bodies import json_body
from app.views.api.lists import paginate
from app.views.api.routing import QueryParam, api_route

TAG = "Webhooks"


def admin() -> Actor:
    """Supervisors use the screens; the API's webhook routes are for admin tokens only."""
    require_admin()
    return actor()


@api_route("/v1/webhooks", "GET", summary="List webhook subscriptions", tag=TAG, response=WebhookOut, many=True)
def list_webhooks():
    return paginate(subscriptions.subscriptions_query(admin()), subscriptions.subscription_dict)


@api_route("/v1/webhooks", "POST", summary="Create a webhook subscription", tag=TAG, body=WebhookIn,
           response=WebhookOut, status=201)
def create_webhook():
    sub = subscriptions.create_subscription(json_body(), admin())
    return jsonify(subscriptions.subscription_dict(sub)), 201


@api_route("/v1/webhooks/<int:subscription_id>", "GET", summary="One webhook subscription", tag=TAG,
           response=WebhookOut)
def get_webhook(subscription_id: int):
    return jsonify(subscriptions.subscription_dict(subscriptions.get_subscription(subscription_id, admin())))


@api_route("/v1/webhooks/<int:subscription_id>", "PATCH", summary="Change the fields sent (a new secret "
           "replaces the old one)", tag=TAG, body=WebhookUpdate, response=WebhookOut)
def update_webhook(subscription_id: int):
    sub = subscriptions.update_subscription(subscription_id, json_body(), admin())
    return jsonify(subscriptions.subscription_dict(sub))


@api_route("/v1/webhooks/<int:subscription_id>", "DELETE", summary="Delete a subscription and its delivery log",
           tag=TAG, status=204)
def delete_webhook(subscription_id: int):
    subscriptions.delete_subscription(subscription_id, admin())
    return "", 204


@api_route("/v1/webhooks/<int:subscription_id>/deliveries", "GET", summary="A subscription's deliveries, newest "
           "event first", tag=TAG, response=DeliveryOut, many=True,
           query=(QueryParam("status", description="pending, retrying, succeeded or failed"),))
def list_deliveries(subscription_id: int):
    stmt = subscriptions.deliveries_query(subscription_id, admin(), request.args.get("status") or None)
    return paginate(stmt, subscriptions.delivery_dict)


@api_route("/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>", "GET",
           summary="One delivery with its attempt log", tag=TAG, response=DeliveryDetailOut)
def get_delivery(subscription_id: int, delivery_id: int):
    delivery = subscriptions.get_delivery(subscription_id, delivery_id, admin())
    return jsonify(subscriptions.delivery_dict(delivery, with_attempts=True))


@api_route("/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver", "POST",
           summary="Send a delivery again now (same event id)", tag=TAG, response=DeliveryOut, status=202,
           body_required=False)
def redeliver(subscription_id: int, delivery_id: int):
    delivery = subscriptions.redeliver(subscription_id, delivery_id, admin())
    return jsonify(subscriptions.delivery_dict(delivery)), 202


@api_route("/v1/webhooks/<int:subscription_id>/redeliver-failed", "POST",
           summary="Send every failed delivery of a subscription again", tag=TAG, response=RedeliveredOut,
           status=202, body_required=False)
def redeliver_failed(subscription_id: int):
    return jsonify(redelivered=subscriptions.redeliver_failed(subscription_id, admin())), 202
