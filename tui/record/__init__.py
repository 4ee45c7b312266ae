"""Recordings of the raw feed: the format, the recorder (the client's tap), the reader.

No Textual and no market here: a recording holds the frames as received, so a replay goes
through the same reader, merge and rules as live data (docs/RECORDING.md).
"""

from tui.record.format import VERSION, FormatError, Header
from tui.record.reader import Recording, RecordingFile
from tui.record.writer import Recorder

__all__ = ["VERSION", "FormatError", "Header", "Recorder", "Recording", "RecordingFile"]
