"""The frame reader: good frames become dicts, bad ones are counted by kind, never raised."""

import msgspec
import pytest

from tui.wire import frames as fr
from tui.wire import protocol as p


@pytest.fixture
def reader():
    return fr.FrameReader(fr.DecodeErrors(redact=("s3cret",)))


def test_market_frames_decode_to_dicts_with_exact_numbers(reader):
    msg = reader.read(b'{"t":"df","e":"NSE","tk":"26000","lp":24872.10,"v":12}')
    assert msg == {"t": "df", "e": "NSE", "tk": "26000", "lp": "24872.10", "v": 12}


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (b"garbage", fr.NOT_JSON),
        (b'{"t":"df"', fr.NOT_JSON),
        (b"\xff\xfe", fr.NOT_JSON),
        (b"[1,2]", fr.NOT_OBJECT),
        (b'"df"', fr.NOT_OBJECT),
        (b'{"t":"zz"}', fr.UNKNOWN_TYPE),
        (b'{"lp":"1"}', fr.UNKNOWN_TYPE),
        (b'{"t":"df","tk":"1"}', fr.MISSING_KEY),
        (b'{"t":"df","e":"NSE","tk":22}', fr.MISSING_KEY),
    ],
)
def test_bad_frames_are_counted_by_kind(reader, frame, kind):
    assert reader.read(frame) is None
    assert reader.errors.by_kind == {kind: 1}
    assert reader.errors.samples[-1][0] == kind


def test_samples_are_truncated_and_redacted(reader):
    reader.read(b'{"t":"zz","susertoken":"s3cret","pad":"' + b"x" * 500 + b'"}')
    _kind, text = reader.errors.samples[-1]
    assert "s3cret" not in text and "<redacted>" in text
    assert len(text) <= fr.DecodeErrors.SAMPLE_CHARS + 1


def test_control_messages_are_validated_against_their_struct(reader):
    ck = reader.control(reader.read(b'{"t":"ck","s":"OK","uid":"u1"}'))
    assert ck == p.ConnectAck(s="OK", uid="u1")
    assert reader.control(reader.read(b'{"t":"ck"}')) is None  # no status
    assert reader.errors.by_kind == {fr.BAD_MESSAGE: 1}


def test_every_client_message_round_trips_through_its_struct():
    for tag, cls in p.CLIENT_TYPES.items():
        fields = {f: "x" for f in cls.__struct_fields__ if f in ("k",)}
        msg = cls(**fields)
        wire = p.encode(msg)
        assert msgspec.json.decode(wire)["t"] == tag
        assert msgspec.json.decode(wire, type=p.ClientMessage) == msg


def test_depth_struct_knows_every_seed_field():
    seed_fields = [
        "lp",
        "pc",
        "v",
        "o",
        "h",
        "l",
        "c",
        "ap",
        "ltt",
        "ltq",
        "tbq",
        "tsq",
        "lc",
        "uc",
        "52h",
        "52l",
        "oi",
        "poi",
        "toi",
        "ft",
        "ue",
        "le",
        "e",
        "tk",
        "ts",
        "pp",
        "ti",
        "ls",
    ] + [f"{s}{w}{i}" for s in "bs" for w in "pqo" for i in range(1, 6)]
    encoded = {f.encode_name for f in msgspec.structs.fields(p.DepthFeed)}
    assert set(seed_fields) <= encoded
    wire = b'{"t":"dk","e":"NSE","tk":"26000","52h":"26277.35","bp5":"1"}'
    msg = msgspec.json.decode(wire, type=p.ServerMessage)
    assert isinstance(msg, p.DepthAck) and msg.h52 == "26277.35" and msg.bp5 == "1"


def test_the_token_never_shows_in_a_connect_repr():
    assert "tok123" not in repr(p.Connect(uid="u", susertoken="tok123"))


def test_keys_join_and_split_like_the_seed():
    assert p.join_keys(["NSE|22", "BSE|508123"]) == "NSE|22#BSE|508123"
    assert p.split_keys("NSE|22#BSE|508123#") == ["NSE|22", "BSE|508123"]
