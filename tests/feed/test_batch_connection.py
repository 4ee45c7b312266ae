"""``BatchConnection`` (the feed client's read loop) against a real websockets server: text
and binary frames, a message in fragments and pings in between arrive whole, in order, none
lost, including the frames that came before anyone asked; a socket read brings several at
once.  What is done with a batch: ``market/test_batch_merge.py``.
"""

from __future__ import annotations

import pytest
from support.waiting import until
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve

from tui.feed.reading import BatchConnection


@pytest.mark.asyncio
async def test_the_batch_connection_hands_over_every_frame_whole_and_in_order():
    frames = [f'{{"n":{i}}}'.encode() for i in range(2000)]
    fragmented = [b'{"n":"frag', b"mented", b'"}']

    async def handler(ws):
        for frame in frames[:10]:  # before the client asks: kept for it in ``early``
            await ws.send(frame.decode())
        await ws.recv()  # the client is reading
        for frame in frames[10:1000]:
            await ws.send(frame.decode())
        await ws.send(iter(part.decode() for part in fragmented))  # a message in 3 frames
        await ws.ping()
        await ws.send(b'{"n":"binary"}')
        for frame in frames[1000:]:
            await ws.send(frame.decode())
        await ws.wait_closed()

    got: list[bytes] = []
    batches: list[int] = []
    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(
            f"ws://127.0.0.1:{port}", create_connection=BatchConnection, compression=None
        ) as ws:
            assert isinstance(ws, BatchConnection)

            def on_batch(batch: list[bytes]) -> None:
                batches.append(len(batch))
                got.extend(batch)

            await until(lambda: len(ws.early) == 10, what="the frames sent before asking")
            got.extend(ws.early)
            ws.early = []
            ws.on_batch = on_batch
            await ws.send("go")
            await until(lambda: len(got) >= 2002, what="every frame")
    want = [*frames[:1000], b"".join(fragmented), b'{"n":"binary"}', *frames[1000:]]
    assert got == want
    assert max(batches) > 1  # a socket read brings several frames at once
