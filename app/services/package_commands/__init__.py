"""Handlers of the package commands, split by stage; `app.services.packages` dispatches to them."""
