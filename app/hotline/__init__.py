"""Hand-over with an external platform such as the 12345 hotline: cases handed out by a signed message sent from a
job with retries, and signed status updates and work orders (工单直派) taken in, idempotent on the platform's own
ids.

May import: core, accounts, areas, cases, geo.
"""
