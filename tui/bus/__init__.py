"""The market-data bus: a relay publishes through NATS, desks on other machines consume.

Layers: ``subjects`` (names, escaping), ``config`` (where and how to connect: auth, TLS),
``state`` (the latest full state of a scrip, kept by the publisher), ``publisher``
(sequenced, batched deltas and the last-value store), ``interest`` (what consumers want,
reference-counted, with a grace period), ``splice`` (a consumer's per-scrip sequence check:
snapshot, then the deltas after it), ``source`` (the NATS feed source), ``standalone``
(``marketdesk publish``: a feed client publishing).  Protocol: docs/BUS.md.
No Textual here.
"""
