"""Dispatch benchmarks: `python -m bench` (full run) or `python -m bench --smoke` (CI-sized).

Each section runs in its own worker process (the product: Dispatcher + adapters + SQLite),
against a sidecar process that plays the outside world (real A2A agents with fixed delays on
127.0.0.1, and a fake Slack Web API). See bench/README.md.
"""
