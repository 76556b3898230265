"""Routing evaluation: fleets, cases written as people type in chat, and a scorer."""
