"""Run the firstock SDK (1.2.11, first on ``PYTHONPATH``) against a V2 feed and print what
its callbacks receive, one JSON line each.

    firstock_driver.py HOST_AND_PREFIX UID TOKEN_ENV TOKENS SECONDS

Run it in a directory of its own: the SDK reads the jKey from ``config.json`` in the
current directory (``get_url_and_header_data``); the driver writes that file from the
token in ``TOKEN_ENV``.  ``Firstock.initialize_websockets`` connects and subscribes the
first of ``TOKENS`` (``|``-separated ``EXCH:TOKEN``) through its model, the rest with
``Firstock.subscribe``; the driver stops when every token has had two frames, or after
``SECONDS``.

``origin: None`` in the SDK's config: the SDK puts its own ``origin`` header
(``https://firstock.in``) beside the one websocket-client adds itself, and the
``websockets`` server refuses a request with two Origin headers (HTTP 400).  With None the
SDK's header is left out (websocket-client drops None values) and the library's stays.
"""

import json
import os
import sys
import threading
import time

from firstock import Firstock, FirstockWebSocket

_out = threading.Lock()


def emit(event, **fields):
    """One JSON line, whole: the SDK's threads and the main one print at once."""
    line = json.dumps({"event": event, **fields}) + "\n"
    with _out:
        sys.stdout.write(line)
        sys.stdout.flush()


def main():
    host, uid, token_env, tokens, seconds = sys.argv[1:6]
    with open("config.json", "w") as f:
        json.dump({uid: {"jKey": os.environ[token_env]}}, f)
    wanted = tokens.split("|")
    counts = {t: 0 for t in wanted}
    done = threading.Event()

    def on_feed(data):
        emit("data", msg=data)
        for name in data:
            if name in counts:
                counts[name] += 1
        if all(n >= 2 for n in counts.values()):
            done.set()

    model = FirstockWebSocket(tokens=wanted[:1], subscribe_feed_data=on_feed)
    config = {
        "scheme": "ws",
        "host": host,
        "path": "/ws",
        "origin": None,
        "max_websocket_connection_retries": 1,
        "time_interval": 1,
    }
    conn, err = Firstock.initialize_websockets(uid, model, config)
    emit("init", ok=conn is not None, error=err)
    if conn is None:
        os._exit(0)
    if len(wanted) > 1:
        emit("subscribe", error=Firstock.subscribe(conn, wanted[1:]))
    done.wait(float(seconds))
    emit("unsubscribe", error=Firstock.unsubscribe(conn, wanted))
    emit("done", complete=done.is_set())
    Firstock.close_websocket(conn)
    time.sleep(0.2)
    os._exit(0)


if __name__ == "__main__":
    main()
