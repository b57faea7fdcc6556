"""The model's vocabulary as text, and the tokens a grammar can ever accept."""

from __future__ import annotations

import ctypes
import functools
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Vocabulary"]


class Vocabulary:
    """Each token's text, the end-of-generation tokens, and candidate sets by alphabet.

    Only tokens made of a grammar's characters can be accepted under it, so the decoding
    loop offers the grammar sampler those alone: :meth:`candidates`.
    """

    def __init__(self, llama_cpp: Any, vocab: Any, n_vocab: int) -> None:
        self.pieces = _pieces(llama_cpp, vocab, n_vocab)
        """Each token's text ('' where it is not whole UTF-8 on its own)."""
        self.eog = np.array(
            [t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t)], np.int32
        )
        """The end-of-generation tokens."""
        ascii_tokens = [
            (token, piece)
            for token, piece in enumerate(self.pieces)
            if piece and all(char == "\n" or " " <= char <= "~" for char in piece)
        ]
        self._ascii_ids = np.array([token for token, _ in ascii_tokens], np.int32)
        self._ascii_masks = np.array(
            [[_mask(piece, 0), _mask(piece, 64)] for _, piece in ascii_tokens], np.uint64
        )

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one vocabulary per model and process
    def candidates(self, alphabet: frozenset[str]) -> npt.NDArray[np.int32]:
        """Every token made only of ``alphabet``'s characters, and end-of-generation."""
        allowed = np.array([_mask("".join(alphabet), 0), _mask("".join(alphabet), 64)], np.uint64)
        outside = (self._ascii_masks & ~allowed).any(axis=1)
        return np.concatenate([self._ascii_ids[~outside], self.eog])

    @functools.lru_cache(maxsize=8)  # noqa: B019 - one vocabulary per model and process
    def holding(self, characters: frozenset[str]) -> npt.NDArray[np.bool_]:
        """Per token: whether its text holds one of ``characters``."""
        return np.array([not characters.isdisjoint(piece) for piece in self.pieces])


def _mask(text: str, base: int) -> int:
    """Bits ``ord(c) - base`` of the characters of ``text`` with codes base..base+63."""
    bits = 0
    for char in set(text):
        code = ord(char) - base
        if 0 <= code < 64:
            bits |= 1 << code
    return bits


def _pieces(llama_cpp: Any, vocab: Any, n_vocab: int) -> list[str]:
    """Each token's text ('' where it is not whole UTF-8 on its own)."""
    buffer = ctypes.create_string_buffer(256)
    pieces = []
    for token in range(n_vocab):
        length = llama_cpp.llama_token_to_piece(vocab, token, buffer, 256, 0, False)
        try:
            pieces.append(buffer.raw[: max(length, 0)].decode("utf-8"))
        except UnicodeDecodeError:
            pieces.append("")
    return pieces
