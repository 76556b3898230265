"""Dispatch: one point of contact in Slack and Discord in front of a fleet of AI agents."""

import os

# The a2a SDK wraps its client's and server's methods in spans for the global tracer, which
# Dispatch never sets (its own traces have a provider of their own), so they only cost: about
# a millisecond of the event loop per agent call. The SDK reads this once, when first
# imported; set it to `true` to have them anyway.
os.environ.setdefault("OTEL_INSTRUMENTATION_A2A_SDK_ENABLED", "false")
