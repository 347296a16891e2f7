"""The domain API: the only layer that commits."""
