"""Inbound goods (SPEC §14, docs/inbound.md): suppliers, purchase orders and their commands,
the receiving of purchase orders and inbound shipments, requisitions and quotes.

    suppliers.py        the supplier record kind (API, admin form, import share it)
    data.py             look-ups by code and the API/webhook shape of every inbound object
    purchase_orders.py  create/edit a draft, run a command (send, confirm, close_short, cancel, ...)
    receiving.py        goods arrive: receipts, ledger rows, state, events, re-plan (one transaction)
    shipments.py        inbound shipments (containers / ASNs) and their status events
    requisitions.py     reorder points, the requisition job, quotes and quote -> purchase order
    demand.py           what is on the way against the parked out-of-stock demand
"""
