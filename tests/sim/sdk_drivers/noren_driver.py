"""Run a Noren SDK (NorenRestApiPy 0.0.22 or norenrestapi 0.0.37, whichever is first on
``PYTHONPATH``) against a feed and print what its callbacks receive, one JSON line each.

    noren_driver.py URL UID TOKEN_ENV KEYS SECONDS

Connects with ``start_websocket`` (the SDK's own handshake: ``c`` with a session token in
0.0.22, ``a`` with an access token in 0.0.37), subscribes depth (``feed_type=2``) of
``KEYS`` (``#``-separated) once the socket is open, and stops when every key has had its
``dk`` and a ``df``, or after ``SECONDS``.  The token comes from the environment, never
argv.  Lines: ``{"event": "open"|"data"|"error"|"close"|"done", ...}``.
"""

import json
import os
import sys
import threading
import time

from NorenRestApiPy.NorenApi import NorenApi

_out = threading.Lock()


def emit(event, **fields):
    """One JSON line, whole: the SDK's threads and the main one print at once."""
    line = json.dumps({"event": event, **fields}) + "\n"
    with _out:
        sys.stdout.write(line)
        sys.stdout.flush()


def main():
    url, uid, token_env, keys, seconds = sys.argv[1:6]
    token = os.environ[token_env]
    wanted = keys.split("#")
    seen = set()
    done = threading.Event()
    api = NorenApi(host="http://127.0.0.1:1/NorenWClientTP/", websocket=url)

    def on_open():
        emit("open")
        api.subscribe(wanted, feed_type=2)

    def on_data(msg):
        emit("data", msg=msg)
        seen.add((msg.get("t"), f"{msg.get('e')}|{msg.get('tk')}"))
        if all(("dk", k) in seen and ("df", k) in seen for k in wanted):
            done.set()

    try:  # 0.0.37: set_session(userid, password, usertoken, accesstoken)
        api.set_session(uid, "", token, token)
    except TypeError:  # 0.0.22: set_session(userid, password, usertoken)
        api.set_session(uid, "", token)
    api.start_websocket(
        subscribe_callback=on_data,
        socket_open_callback=on_open,
        socket_error_callback=lambda e: emit("error", error=repr(e)),
        socket_close_callback=lambda: emit("close"),
    )
    done.wait(float(seconds))
    emit("done", complete=done.is_set())
    # close_websocket() may sit 10 s in websocket-client's select(): close in the
    # background and leave; the test checks the server saw the session end
    threading.Thread(target=api.close_websocket, daemon=True).start()
    time.sleep(0.3)
    os._exit(0)


if __name__ == "__main__":
    main()
