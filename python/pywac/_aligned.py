"""Aligned: several captures read as one timeline (libwac's wac_aligned_*)."""
from __future__ import annotations

from typing import Any, AsyncIterator, Iterator, Optional, Union

from . import _wac
from ._capture import Capture, Chunk, Samples, _ready, _timeout_ms, samples
from ._errors import invalid

__all__ = ["Aligned", "AlignedChunk"]


class AlignedChunk:
    """One block of an :class:`Aligned` reader: the same stretch of time from
    every capture, frame k of each being the same instant.

    Index or unpack it for the samples (``app, mic = block``): one array per
    capture, in the order given to :class:`Aligned`, all :attr:`frames` long,
    each in its capture's channels and format (numpy arrays, or memoryviews
    without numpy).
    """

    __slots__ = ("samples", "chunks", "position", "time_ns", "flags")

    samples: tuple[Samples, ...]
    """One sample array per capture."""
    chunks: tuple[Chunk, ...]
    """The same as :class:`Chunk` buffers (each with this block's position and
    time and its capture's flags)."""
    position: int
    """Frames since the common start (the earliest capture's first frame)."""
    time_ns: int
    """CLOCK_MONOTONIC time of the block's first frame, in ns."""
    flags: tuple[int, ...]
    """Per capture: :data:`pywac.CHUNK_DISCONTINUOUS` (a gap lies in its
    block), :data:`pywac.CHUNK_LAST` (it ended here: silence follows)."""

    def __init__(self, chunks: tuple[Chunk, ...]) -> None:
        self.chunks = chunks
        self.samples = tuple(samples(c) for c in chunks)
        self.position = chunks[0].position
        self.time_ns = chunks[0].time_ns
        self.flags = tuple(c.flags for c in chunks)

    @property
    def frames(self) -> int:
        """Frames in the block (the same for every capture)."""
        return self.chunks[0].frames

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> Samples:
        return self.samples[index]

    def __iter__(self) -> Iterator[Samples]:
        return iter(self.samples)

    def __repr__(self) -> str:
        return (f"<pywac.AlignedChunk {len(self.chunks)} captures x {self.frames} frames "
                f"position {self.position} flags {self.flags}>")


class Aligned:
    """Several captures read as one timeline: every read returns a block of
    the same number of frames of each, frame k of every capture being the
    same instant - an application and a microphone, say, to tell who spoke
    when::

        with pywac.Aligned(pywac.Capture(pid=app), pywac.Capture(device="default")) as aligned:
            for app_audio, mic_audio in aligned:
                ...

    The captures must share one rate (else :class:`pywac.FormatError`: nothing
    is resampled) and be read-style (a ``callback=`` capture is
    :class:`pywac.InvalidArgument`); each keeps its own channels and format.
    Up to 16. Captures not started yet are started here, one right after the
    other. A capture that started later than the earliest one is preceded by
    silence for the difference, from the chunks' timestamps (exact to about
    a frame); captures of one audio server share its clock, devices on
    different clocks drift apart by their clocks' difference. A capture that
    ends delivers silence from then on (:data:`pywac.CHUNK_LAST` in its
    flags once).

    The reader takes its captures over: while it is open, their own
    ``read`` raises :class:`pywac.Busy` (it would take frames off the
    timeline); their ``events()`` and ``stats`` still work. :meth:`close`
    (also at the end of a ``with`` block) closes the reader and its captures.

    Blocks are ``chunk_ms`` long (rounded to a frame). Read them with
    :meth:`read`, ``for block in aligned`` or ``async for block in aligned``.
    """

    def __init__(self, *captures: Capture, chunk_ms: Union[int, float] = 100) -> None:
        if not captures:
            raise invalid("Aligned needs at least one capture")
        for i, capture in enumerate(captures):
            if not isinstance(capture, Capture):
                raise TypeError(f"Aligned takes pywac.Capture objects; argument {i} is {type(capture).__name__}")
        if isinstance(chunk_ms, bool) or not isinstance(chunk_ms, (int, float)):
            raise TypeError(f"chunk_ms must be a number, not {type(chunk_ms).__name__}")
        if not chunk_ms > 0:
            raise invalid(f"chunk_ms must be a positive number of ms, got {chunk_ms!r}")
        frames = min(max(1, round(captures[0].rate * chunk_ms / 1000)), 0xFFFFFFFF)
        self._captures = captures
        self._frames = frames
        self._aligned = _wac.Aligned([c._cap for c in captures], frames)
        try:
            for capture in captures:
                if capture._cap.state == "open":
                    capture._cap.start()
        except BaseException:
            self._aligned.close()
            raise

    # ---- lifecycle ----

    def close(self) -> None:
        """Close the reader, then its captures (a reader blocked in another
        thread gets :class:`pywac.Closed`). Idempotent."""
        self._aligned.close()
        for capture in self._captures:
            capture.close()

    def __enter__(self) -> "Aligned":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    async def __aenter__(self) -> "Aligned":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    # ---- reading ----

    def read(self, timeout: Optional[float] = None) -> Optional[AlignedChunk]:
        """The next block, waiting up to ``timeout`` seconds (None: as long as
        it takes) with the GIL released. A timeout loses nothing: what was
        read is kept for the next call.

        Returns None on timeout, and once every capture has ended and all was
        read when they were all stopped (then :attr:`ended` is True); if one
        ended because of an error (server lost, its process exited, its
        device removed), raises that error then, as :meth:`Capture.read`
        does. Raises :class:`pywac.Closed` when a capture was closed.
        """
        chunks = self._aligned.read(self._frames, _timeout_ms(timeout))
        return None if chunks is None else AlignedChunk(chunks)

    def __iter__(self) -> Iterator[AlignedChunk]:
        """Blocks until every capture has ended."""
        while True:
            block = self.read()
            if block is None:
                return
            yield block

    def __aiter__(self) -> AsyncIterator[AlignedChunk]:
        return self

    async def __anext__(self) -> AlignedChunk:
        block = await self.aread()
        if block is None:
            raise StopAsyncIteration
        return block

    async def aread(self) -> Optional[AlignedChunk]:
        """As :meth:`read` without a timeout, for asyncio (use
        ``asyncio.wait_for`` for one; cancelling loses nothing).

        It waits without threads: a non-blocking read takes what every
        capture has; if the block is not complete, it waits on the
        descriptor (Windows: event handle) of a capture that lacks frames -
        one whose buffer that read emptied - with ``loop.add_reader``, then
        tries again. Not an executor thread: a thread blocked in a read
        cannot be cancelled, so a cancelled ``wait_for`` would leave it
        running and take the block it completes with it."""
        while True:
            chunks = self._aligned.read(self._frames, 0)
            if chunks is not None:
                return AlignedChunk(chunks)
            if self._aligned.ended:
                return None
            await _ready(self._lagging())

    def _lagging(self) -> Any:
        """A capture to wait for: the first one still running whose buffer is
        empty (the non-blocking read took all it had and still lacks), else
        the first still running (frames came meanwhile: it returns at once)."""
        running = [c._cap for c in self._captures if not c._cap.ended]
        for cap in running:
            if cap.available() == 0:
                return cap
        return running[0] if running else self._captures[0]._cap

    # ---- facts ----

    @property
    def captures(self) -> tuple[Capture, ...]:
        """The captures, in the order of the samples in each block."""
        return self._captures

    @property
    def rate(self) -> int:
        """Their common rate, Hz."""
        return self._aligned.rate

    @property
    def chunk_frames(self) -> int:
        """Frames per block."""
        return self._frames

    @property
    def ended(self) -> bool:
        """True once every capture has ended and everything was read."""
        return self._aligned.ended

    @property
    def closed(self) -> bool:
        """True once closed."""
        return self._aligned.closed

    def __repr__(self) -> str:
        state = "closed" if self.closed else ("ended" if self.ended else "open")
        return f"<pywac.Aligned {state} {len(self._captures)} captures {self.rate} Hz block {self._frames}>"
