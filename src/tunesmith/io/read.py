"""``read_score``: any MIDI, MusicXML, ABC or tunesmith notation file as a :class:`Score`.

The suffix picks the reader and the file's first bytes must agree (a text file named
``.mid`` is refused, not misread). What a file does not say (key, meter, tempo) is
estimated and what the reader changed (quantisation, merged voices, dropped grace notes)
is noted, both in ``score.source``. Every problem is a :class:`~tunesmith.errors.ReadError`
naming the file and what is wrong with it.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from tunesmith.errors import ExportError, ReadError, TunesmithError
from tunesmith.header import MODES, Header, Key, clean_text
from tunesmith.io.timeline import Timed, choose_grid, exact, quantise, roles, to_bars
from tunesmith.score import Drum, Part, Pitch, PitchClass, Score, Source

__all__ = ["MAX_FILE_BYTES", "READERS", "read_midi_file", "read_score"]

MAX_FILE_BYTES = 32 * 1024 * 1024
"""The largest file read_score reads (32 MiB): a real score is a few hundred KB at most."""
READERS = {
    ".mid": "midi",
    ".midi": "midi",
    ".smf": "midi",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".mxl": "musicxml",
    ".abc": "abc",
    ".txt": "text",
    ".tune": "text",
}
"""File suffixes and the format each is read as; any other suffix is read as notation."""


def read_score(path: str | os.PathLike[str]) -> Score:
    """Read a score from a MIDI, MusicXML (``.musicxml``, ``.xml``, ``.mxl``), ABC or notation file.

    MIDI tracks and channels become parts (channel 10: drums), with onsets and lengths
    quantised to the notation's grid; MusicXML parts and ABC voices become parts, their
    chord symbols the harmony lane and their repeat marks the score's repeats. Roles are
    assigned by register: the highest part is the melody, the lowest the bass.

    Raises
    ------
    ReadError
        For a missing, empty, oversized, corrupt or unreadable file, or one without notes.
    """
    source = Path(path)
    data = _read_bytes(source)
    kind = READERS.get(source.suffix.lower(), "text")
    if kind == "midi":
        return _midi(data, source)
    if source.suffix.lower() == ".mxl" or data[:2] == b"PK":
        return _music21(source, source, "musicxml")
    text = _text(data, source)
    if kind == "musicxml":
        return _music21(text, source, "musicxml")
    if kind == "abc":
        return _music21(text, source, "abc")
    from tunesmith.notation import parse  # noqa: PLC0415

    try:
        score = parse(text)
    except TunesmithError as error:
        raise ReadError(source, f"not tunesmith notation: {error}") from error
    guessed = (
        ()
        if re.search(r"^\s*meter\s*:", text, re.MULTILINE)
        else (f"meter {score.header.meter} (from the bar lengths; the text has no 'meter:' line)",)
    )
    return replace(score, source=Source(str(source), "text", guessed))


def _read_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ReadError(path, "it is a folder; give a score file")
        if size == 0:
            raise ReadError(path, "the file is empty")
        if size > MAX_FILE_BYTES:
            raise ReadError(
                path,
                f"the file is {size / 2**20:.0f} MiB; tunesmith reads scores of up to "
                f"{MAX_FILE_BYTES // 2**20} MiB (is it really a score?)",
            )
        return path.read_bytes()
    except OSError as error:
        raise ReadError(path, error.strerror or str(error)) from error


def read_midi_file(path: str | os.PathLike[str]) -> bytes:
    """A MIDI file's bytes, after the checks of :func:`read_score` (exists, size, is MIDI)."""
    source = Path(path)
    data = _read_bytes(source)
    _open_midi(data, source)
    return data


def _text(data: bytes, path: Path) -> str:
    if data[:4] == b"MThd":
        raise ReadError(path, "it is a MIDI file; give it a .mid suffix")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ReadError(
            path,
            f"not UTF-8 text (byte 0x{data[error.start]:02x} at position {error.start}); "
            "save it as UTF-8",
        ) from error


# -- keys -------------------------------------------------------------------------------


def _key_ending_on(key: Key, final: int | None) -> Key:
    """The mode of ``key``'s signature whose tonic is the final note, if it is a scale note."""
    if final is None or key.tonic.semitone == final % 12:
        return key
    for pitch_class in key.scale:
        if pitch_class.semitone == final % 12:
            for mode in MODES:
                try:
                    candidate = Key(pitch_class, mode)
                except TunesmithError:
                    continue
                if candidate.sharps == key.sharps:
                    return candidate
    return key


def _analysed_key(pitches: list[tuple[int, Fraction]]) -> Key | None:
    """music21's key analysis (Krumhansl-Schmuckler) of (MIDI key, length) pairs, in the
    mode of its signature that ends on the last pitch."""
    from music21 import note, stream  # noqa: PLC0415

    if not pitches:
        return None
    line = stream.Stream(
        [note.Note(midi=key, quarterLength=float(length)) for key, length in pitches]
    )
    found = line.analyze("key")
    try:
        key = Key(PitchClass.parse(found.tonic.name), found.mode)
    except TunesmithError:  # more than seven sharps or flats
        return None
    return _key_ending_on(key, pitches[-1][0])  # as a written signature would be read


# -- MIDI -------------------------------------------------------------------------------


def _open_midi(data: bytes, path: Path) -> Any:
    from tunesmith.io.midi import open_midi  # noqa: PLC0415

    if data[:4] != b"MThd":
        looks = "text" if data[:64].isascii() else "another kind of file"
        raise ReadError(
            path, f"not a MIDI file: it does not start with 'MThd' (it looks like {looks})"
        )
    try:
        midi = open_midi(data)
    except ExportError as error:
        raise ReadError(
            path, f"corrupt or truncated MIDI file ({error.__cause__ or error})"
        ) from error
    if midi.type == 2 or midi.ticks_per_beat <= 0:
        raise ReadError(path, "type-2 and SMPTE-timed MIDI files are not supported; save as type 1")
    return midi


def _midi(data: bytes, path: Path) -> Score:  # noqa: PLR0912, PLR0915 - one pass over the file

    from tunesmith.io.midi import DRUM_CHANNEL  # noqa: PLC0415

    midi = _open_midi(data, path)
    per_quarter = Fraction(midi.ticks_per_beat)
    tempos, meters, keys, names = [], [], [], {}
    programs: dict[tuple[int, int], int] = {}
    notes: dict[tuple[int, int], list[tuple[Fraction, Fraction, int]]] = {}
    end = Fraction(0)
    for index, track in enumerate(midi.tracks):
        now, held = 0, {}  # (channel, key) -> start ticks
        for message in track:
            now += message.time
            if message.type == "set_tempo":
                tempos.append((now, message.tempo))
            elif message.type == "time_signature":
                meters.append(
                    (now, message.numerator, message.denominator, message.clocks_per_click)
                )
            elif message.type == "key_signature":
                keys.append((now, message.key))
            elif message.type == "track_name" and index not in names:
                names[index] = clean_text(message.name)
            elif message.type == "program_change":
                programs.setdefault((index, message.channel), message.program)
            elif message.type in {"note_on", "note_off"}:
                starts = held.setdefault((message.channel, message.note), [])
                if message.type == "note_on" and message.velocity > 0:
                    starts.append(now)
                elif starts:
                    start = starts.pop(0)
                    notes.setdefault((index, message.channel), []).append(
                        (start / per_quarter, now / per_quarter, message.note)
                    )
        for (channel, key), starts in held.items():
            for start in starts:
                notes.setdefault((index, channel), []).append(
                    (start / per_quarter, now / per_quarter, key)
                )
        end = max(end, now / per_quarter)
    if not notes:
        raise ReadError(path, "the file has no notes")
    for part in programs:  # a part that rests throughout is still a part
        notes.setdefault(part, [])
    estimated, remarks = [], []
    meters.sort()
    if not meters:
        meters = [(0, 4, 4, 24)]
        estimated.append("meter 4/4 (the file has no time signature)")
    bar_starts, counts = [Fraction(0)], Counter[tuple[int, int, int]]()
    while bar_starts[-1] < end or len(bar_starts) == 1:
        now = bar_starts[-1]
        active = [m for m in meters if m[0] / per_quarter <= now] or meters[:1]
        _, numerator, denominator, clocks = active[-1]
        step = Fraction(4 * numerator, denominator)
        changes = [m[0] / per_quarter for m in meters if now < m[0] / per_quarter < now + step]
        bar_starts.append(changes[0] if changes else now + step)
        counts[(numerator, denominator, clocks)] += 1
    numerator, denominator, clocks = max(counts, key=lambda m: (counts[m], m[0] / m[1]))
    meter = f"{numerator}/{denominator}"
    default_beat = Header(meter).beat
    beat = Fraction(clocks, 24) if clocks not in {24, 24 * default_beat} else default_beat
    if len({t for _, t in tempos}) > 1:
        remarks.append("the tempo changes; kept the first")
    qpm = 60e6 / tempos[0][1] if tempos else 120.0
    if not tempos:
        estimated.append("tempo 120 quarter notes a minute (the file has none)")
    timed = {part: [Timed(a, b, Drum.from_midi(k)) if part[1] == DRUM_CHANNEL else Timed(a, b, Pitch.from_midi(k)) for a, b, k in found] for part, found in sorted(notes.items())}  # fmt: skip
    moved, largest = 0, Fraction(0)
    for part, found in timed.items():
        times = [t for n in found for t in ((n.onset,) if part[1] == DRUM_CHANNEL else (n.onset, n.end))]
        if not exact(times, bar_starts):  # a performance, not a file a program wrote
            timed[part], count, shift = quantise(found, choose_grid(times))
            moved, largest = moved + count, max(largest, shift)
    pitched = sorted(
        (n.end, n.onset, n.sound.midi) for p, f in timed.items() if p[1] != DRUM_CHANNEL for n in f
    )  # the last is the highest of the notes that end last: the melody's final note
    melody = [(key, end - onset) for end, onset, key in pitched]
    final = pitched[-1][2] if pitched else None
    key = None
    if keys:
        name = sorted(keys)[0][1]
        written = Key(
            PitchClass.parse(name.rstrip("m")), "minor" if name.endswith("m") else "major"
        )
        key = _key_ending_on(written, final)
        if key != written:
            estimated.append(f"mode: {key} (the signature of {written}, ending on {key.tonic})")
    elif (key := _analysed_key(melody)) is not None:
        estimated.append(f"key {key} (music21's key analysis; the file has no key signature)")
    spelled = {
        part: [Timed(n.onset, n.end, key.spell(n.sound.midi)) if key and isinstance(n.sound, Pitch) else n for n in found]
        for part, found in timed.items()
    }  # fmt: skip
    bars = [
        to_bars(found, bar_starts, drums=part[1] == DRUM_CHANNEL) for part, found in spelled.items()
    ]
    assigned = roles([(b, part[1] == DRUM_CHANNEL) for b, part in zip(bars, spelled, strict=True)])
    channels_in = Counter(track for track, _ in spelled)
    parts = []
    for (track, channel), part_bars, role in zip(spelled, bars, assigned, strict=True):
        name = names.get(track, "")
        if channels_in[track] > 1:
            name = f"{name} (channel {channel + 1})".strip()
        program = programs.get(
            (track, channel), next((p for (_, c), p in programs.items() if c == channel), 0)
        )
        parts.append(Part(part_bars, name=name, role=role, program=program))
    conductor = midi.type == 0 or not any(track == 0 for track, _ in spelled)
    title = names.get(0, "") if conductor else ""
    header = Header(meter, key, round(qpm / float(beat), 2), beat, title)
    return Score(
        header,
        tuple(parts),
        source=Source(str(path), "midi", tuple(estimated), moved, largest, tuple(remarks)),
    )


def _music21(data: Any, path: Path, kind: str) -> Score:
    from tunesmith.io.music21_read import read_music21  # noqa: PLC0415

    return read_music21(data, path, kind)  # type: ignore[arg-type]
