"""A channel simulator: a small HTTP server that speaks the documented subset of Shopify's Admin
REST API, WooCommerce's REST API v3 and Trendyol's Marketplace API that Packline's connectors
use, for tests, benchmarks and the demo (those services cannot be reached from here).

Run it with `python -m app.channel_simulator --port 8089`. It keeps everything in memory,
records every request it receives, serves Trendyol orders to pull, sends signed Shopify and
WooCommerce order webhooks on command, and can be told to fail (500), answer garbage, time out
or rate-limit (429 + Retry-After). Its own control endpoints live under `/_sim/`
(docs/channels.md lists them).
"""
