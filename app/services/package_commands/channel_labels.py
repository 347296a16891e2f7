"""Labels a marketplace prints itself (channels with `provides_shipping_label`).

Staff pack such a package by scanning the barcode on the marketplace's label into the tracking
number field (the store focuses that field once everything is picked); the label URL is
optional. When the channel's connector (app/services/channels/) can fetch labels (Trendyol), no
typing is needed: `complete_packing_channel` opens the shipment as `pending` and, after commit,
enqueues the connector's task (app.tasks.channels.fetch_label, retried like a carrier label job),
which stores the label (and the tracking number) and moves the shipment to `label_ready` exactly
as a carrier label job does (`lifecycle.set_shipment_status`, `shipment.label_ready` event). The
package page then offers the label that exists: **Print label** for a PDF or a label URL, **Print
label (ZPL)** (a file for the thermal printer) when the marketplace gives only ZPL, as Trendyol
does — Packline does not redraw a marketplace's label as a PDF.

Such a shipment never goes to our own carrier (`shipments._plan` skips it): the stale-label sweep
of the carrier poll and `refresh_label` queue the channel's fetch job again instead, and refuse
(`NO_LABEL_FETCH`) when the channel's connector cannot fetch labels.

The hook: `label_task(channel) -> str | None` in `app.services.channels` returns the dotted path
of an RQ task taking a shipment id, or None when that channel's connector cannot fetch labels
(staff then scan the label).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from app.models import Channel, Shipment
from app.services.package_commands.common import safe_enqueue

SCAN_THE_LABEL = "Scan the barcode on the marketplace's label, or type its tracking number."
NO_LABEL_FETCH = ("This package's label comes from the sales channel, and Packline cannot fetch it from there: "
                  "print it from the marketplace's seller panel and scan its barcode.")


def label_task(channel: Channel) -> str | None:
    """The connector's label-fetching task for `channel`, or None (staff scan the label)."""
    try:
        channels = importlib.import_module("app.services.channels")
    except ImportError:
        return None
    find = getattr(channels, "label_task", None)
    return find(channel) if callable(find) else None


def job_id(shipment_id: int, version: int) -> str:
    return f"channel-label-{shipment_id}-{version}"


def fetch_job(shipment: Shipment, task: str) -> Callable[[], None]:
    """The after-commit callable that asks the connector for this shipment's label."""
    shipment_id, version = shipment.id, shipment.version
    return lambda: safe_enqueue("carriers", task, shipment_id, job_id=job_id(shipment_id, version))


def channel_prints_label(channel: Channel | None) -> bool:
    """Whether the marketplace prints this channel's labels: its packages never get one from
    our own carrier (that would give the parcel a tracking number the marketplace does not know)."""
    return bool(channel is not None and channel.provides_shipping_label)
