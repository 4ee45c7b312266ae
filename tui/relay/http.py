"""The relay's plain HTTP on its WebSocket port: ``/health``, ``/snapshot``, ``/metrics``.

- ``GET /health``: JSON: the upstream (state, level, rates, lag, the last error, redacted)
  and every client (name, level, stream mode, subscriptions, lag, conflated, resynced).
- ``GET /snapshot?k=EXCH|TOKEN&k=...``: the same JSON as ``marketdesk snapshot``, from the
  cache; scrips no client subscribes are asked upstream for up to ``seconds`` (default
  3, at most 10) and dropped again after the relay's grace.  Needs a client token
  (``Authorization: Bearer`` or ``?token=``), as the feed itself does.
- ``GET /metrics``: Prometheus text (prometheus-client), read from the same figures at
  scrape time: nothing is counted twice on the hot path.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tui.feed_commands import health_json
from tui.market.export import scrip_json
from tui.server.server import route
from tui.wire.protocol import split_keys

if TYPE_CHECKING:
    from tui.relay.server import Relay

_MAX_WAIT = 10.0
_STATES = ("idle", "connecting", "authenticating", "live", "backoff", "auth-failed",
           "failed", "session-limit", "stopped")  # fmt: skip


def respond(status: HTTPStatus, body: bytes, content_type: str) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("Connection", "close"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def json_response(doc: Any, status: HTTPStatus = HTTPStatus.OK) -> Response:
    body = (json.dumps(doc, ensure_ascii=False) + "\n").encode()
    return respond(status, body, "application/json")


class RelayHttp:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Metrics(relay))

    async def __call__(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if path == "/health":
            return json_response(self.health())
        if path == "/metrics":
            return respond(
                HTTPStatus.OK,
                generate_latest(self.registry),
                "text/plain; version=0.0.4; charset=utf-8",
            )
        if path == "/snapshot":
            return await self.snapshot(request)
        return None

    # -- /health --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        relay = self.relay
        client = relay.upstream
        h = client.health
        loop_now = asyncio.get_running_loop().time()
        up = health_json(client)
        up.update(
            msg_rate=round(h.msg_rate, 1),
            subscriptions=h.subscriptions,
            sessions=h.sessions,
            connections_used=h.connections_used,
        )
        clients = []
        for s in sorted(relay.sessions, key=lambda s: s.serial):
            st = s.stream
            if st is None or not s.authed:
                continue
            subs = s.subs
            held = st if st.cohort is None else st.cohort.backlog  # a conflated one's: its rate's
            clients.append(
                {
                    "id": s.serial,
                    "name": s.uid,
                    "level": s.level,
                    "mode": st.mode,
                    "subscriptions": len(subs["t"] | subs["d"] | subs["l"]),
                    "lag": 0.0 if st.held_since is None else round(loop_now - st.held_since, 3),
                    "queued_bytes": st.queued_bytes(s),
                    "behind": st.behind,
                    "held_scrips": len(held.prices.keys() | held.l2.keys()),
                    "conflated": st.conflated,
                    "merged": st.merged,
                    "resynced": st.resynced,
                    "fell_behind": st.behinds,
                    "frames_sent": s.sent,
                }
            )
        return {
            "relay": {
                "url": relay.url,
                "level": relay.backend.level,
                "clients": len(clients),
                "forwarded": relay.fanout.forwarded,
                "released": relay.fanout.released,
            },
            "upstream": up,
            "clients": clients,
        }

    # -- /snapshot ------------------------------------------------------------------------
    async def snapshot(self, request: Request) -> Response:
        relay = self.relay
        _, token = route(request)
        if not token or not relay.token_ok(token):
            return json_response(
                {"error": "a client token is needed (Authorization: Bearer)"},
                HTTPStatus.UNAUTHORIZED,
            )
        query = parse_qs(urlsplit(request.path).query)
        keys = list(dict.fromkeys(k for value in query.get("k", []) for k in split_keys(value)))
        bad = [k for k in keys if relay.backend.refusal("L2", "t", k)]
        if not keys or bad:
            why = f"not a scrip key: {bad[0][:64]!r}" if bad else "no scrips: give ?k=EXCH|TOKEN"
            return json_response({"error": why}, HTTPStatus.BAD_REQUEST)
        try:
            seconds = min(max(float(query.get("seconds", ["3"])[0]), 0.0), _MAX_WAIT)
        except ValueError:
            return json_response({"error": "seconds must be a number"}, HTTPStatus.BAD_REQUEST)
        cache = relay.cache
        missing = [k for k in keys if cache.touch_snapshot(k) is None]
        if missing:
            depth = relay.backend.level != "L0"
            for key in missing:
                relay.interest.want("d" if depth else "t", key)
            relay.wake()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + seconds
            while loop.time() < deadline and any(cache.touch_snapshot(k) is None for k in missing):
                await asyncio.sleep(0.05)
            for key in missing:
                relay.interest.unwant(key)
        scrips = {}
        for key in keys:
            scrip = cache.view(key)
            if scrip is not None and scrip.values:
                scrips[key] = scrip_json(scrip)
        return json_response({"scrips": scrips, "health": health_json(relay.upstream)})


class _Metrics(Collector):
    """Read at scrape time from the relay's own figures."""

    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    def collect(self) -> Iterator[Any]:
        relay = self.relay
        h = relay.upstream.health
        state = GaugeMetricFamily(
            "marketdesk_relay_upstream_state",
            "1 for the upstream connection's current state",
            labels=["state"],
        )
        for name in _STATES:
            state.add_metric([name], 1.0 if h.state == name else 0.0)
        yield state
        yield CounterMetricFamily(
            "marketdesk_relay_upstream_messages",
            "frames received from the upstream",
            value=h.messages,
        )
        yield CounterMetricFamily(
            "marketdesk_relay_upstream_reconnects",
            "upstream connection attempts after the first",
            value=h.reconnects,
        )
        yield CounterMetricFamily(
            "marketdesk_relay_upstream_decode_errors",
            "bad upstream frames",
            value=relay.cache.errors.total,
        )
        yield GaugeMetricFamily(
            "marketdesk_relay_upstream_subscriptions",
            "scrips subscribed upstream",
            value=h.subscriptions,
        )
        lag = GaugeMetricFamily(
            "marketdesk_relay_upstream_lag_seconds", "wall clock minus the newest feed time seen"
        )
        if h.lag is not None:
            lag.add_metric([], h.lag)
        yield lag
        yield GaugeMetricFamily(
            "marketdesk_relay_clients",
            "authenticated client connections",
            value=sum(1 for s in relay.sessions if s.authed),
        )
        yield CounterMetricFamily(
            "marketdesk_relay_forwarded_frames",
            "frames queued to clients tick by tick",
            value=relay.fanout.forwarded,
        )
        yield CounterMetricFamily(
            "marketdesk_relay_released_frames",
            "frames queued to clients from conflated backlogs",
            value=relay.fanout.released,
        )
        per = {
            "merged": CounterMetricFamily(
                "marketdesk_relay_client_merged",
                "messages merged into a held one, per client",
                labels=["client", "name"],
            ),
            "resynced": CounterMetricFamily(
                "marketdesk_relay_client_resynced",
                "L2 backlogs replaced by a fresh lk, per client",
                labels=["client", "name"],
            ),
            "sent": CounterMetricFamily(
                "marketdesk_relay_client_frames",
                "frames written, per client",
                labels=["client", "name"],
            ),
        }
        queued = GaugeMetricFamily(
            "marketdesk_relay_client_queued_bytes",
            "bytes waiting to be sent, per client",
            labels=["client", "name"],
        )
        for s in relay.sessions:
            st = s.stream
            if st is None or not s.authed:
                continue
            labels = [str(s.serial), s.uid]
            per["merged"].add_metric(labels, st.merged)
            per["resynced"].add_metric(labels, st.resynced)
            per["sent"].add_metric(labels, s.sent)
            queued.add_metric(labels, st.queued_bytes(s))
        yield from per.values()
        yield queued
