"""Tokens of a ``${{ }}`` expression, with the runner's adjacency rules.

The runner decides, token by token, whether a token may follow the previous
one (a literal may not be indexed, ``.`` may not follow a literal, ...); an
illegal token is an "Unexpected symbol" error at its 1-based position.
"""

from __future__ import annotations

import math
from typing import Any

from ci_helper.record import FrozenRecord
from ci_helper.runner.expressions.errors import ParseError
from ci_helper.runner.expressions.values import parse_number

START_GROUP = "StartGroup"
START_INDEX = "StartIndex"
START_PARAMETERS = "StartParameters"
END_GROUP = "EndGroup"
END_INDEX = "EndIndex"
END_PARAMETERS = "EndParameters"
SEPARATOR = "Separator"
DEREFERENCE = "Dereference"
WILDCARD = "Wildcard"
OPERATOR = "LogicalOperator"
NULL = "Null"
BOOLEAN = "Boolean"
NUMBER = "Number"
STRING = "String"
PROPERTY_NAME = "PropertyName"
FUNCTION = "Function"
NAMED_VALUE = "NamedValue"

MAX_LENGTH = 21000

_OPERATORS_2 = ("!=", ">=", "<=", "==", "&&", "||")
_OPERATORS_1 = ("!", ">", "<")
_BOUNDARY = set("([)],.!><=&|")

_LITERALS = (NULL, BOOLEAN, NUMBER, STRING)
_VALUE_END = (END_GROUP, END_PARAMETERS, END_INDEX, WILDCARD, *_LITERALS, PROPERTY_NAME, NAMED_VALUE)
_OPERAND_START = (None, SEPARATOR, START_INDEX, START_GROUP, START_PARAMETERS, OPERATOR)
_LEGAL_AFTER: dict[str, tuple[Any, ...]] = {
    START_GROUP: _OPERAND_START,
    START_INDEX: (END_GROUP, END_PARAMETERS, END_INDEX, WILDCARD, PROPERTY_NAME, NAMED_VALUE),
    START_PARAMETERS: (FUNCTION,),
    END_GROUP: _VALUE_END,
    END_INDEX: _VALUE_END,
    END_PARAMETERS: (START_PARAMETERS, *_VALUE_END),
    SEPARATOR: _VALUE_END,
    DEREFERENCE: (END_GROUP, END_PARAMETERS, END_INDEX, WILDCARD, PROPERTY_NAME, NAMED_VALUE),
    WILDCARD: (START_INDEX, DEREFERENCE),
    NULL: _OPERAND_START,
    BOOLEAN: _OPERAND_START,
    NUMBER: _OPERAND_START,
    STRING: _OPERAND_START,
    PROPERTY_NAME: (DEREFERENCE,),
    FUNCTION: _OPERAND_START,
    NAMED_VALUE: _OPERAND_START,
}


class Token(FrozenRecord):
    __slots__ = ("kind", "raw", "index", "value")
    _fields = __slots__

    def __init__(self, kind: str, raw: str, index: int, value: Any = None) -> None:
        self.kind = kind
        self.raw = raw
        self.index = index
        self.value = value


def is_legal_keyword(text: str) -> bool:
    if not text or not (text[0].isascii() and (text[0].isalpha() or text[0] == "_")):
        return False
    return all(c.isascii() and (c.isalnum() or c in "_-") for c in text[1:])


def _boundary(c: str) -> bool:
    return c in _BOUNDARY or c.isspace()


class Lexer:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.index = 0
        self.last: Token | None = None
        self.unclosed: list[Token] = []

    def _unexpected(self, raw: str, index: int) -> ParseError:
        return ParseError("Unexpected symbol", self.expression, raw, index)

    def tokens(self) -> list[Token]:
        if len(self.expression) > MAX_LENGTH:
            raise ParseError(f"Exceeded max expression length {MAX_LENGTH}", self.expression)
        result: list[Token] = []
        while True:
            token = self._next()
            if token is None:
                return result
            result.append(token)

    def _next(self) -> Token | None:
        text = self.expression
        while self.index < len(text) and text[self.index].isspace():
            self.index += 1
        if self.index >= len(text):
            return None
        c = text[self.index]
        start = self.index
        if c == "(":
            self.index += 1
            kind = START_PARAMETERS if self.last is not None and self.last.kind == FUNCTION else START_GROUP
            token = self._create(kind, c, start)
        elif c == "[":
            self.index += 1
            token = self._create(START_INDEX, c, start)
        elif c == ")":
            self.index += 1
            in_call = bool(self.unclosed) and self.unclosed[-1].kind == START_PARAMETERS
            token = self._create(END_PARAMETERS if in_call else END_GROUP, c, start)
        elif c == "]":
            self.index += 1
            token = self._create(END_INDEX, c, start)
        elif c == ",":
            self.index += 1
            token = self._create(SEPARATOR, c, start)
        elif c == "*":
            self.index += 1
            token = self._create(WILDCARD, c, start)
        elif c == "'":
            token = self._read_string()
        elif c in "!><=&|":
            token = self._read_operator()
        elif c == ".":
            if self.last is None or self.last.kind in (SEPARATOR, START_GROUP, START_INDEX, START_PARAMETERS, OPERATOR):
                token = self._read_number()
            else:
                self.index += 1
                token = self._create(DEREFERENCE, c, start)
        elif c in "+-" or "0" <= c <= "9":
            token = self._read_number()
        else:
            token = self._read_keyword()
        self.last = token
        return token

    def _read_number(self) -> Token:
        text, start = self.expression, self.index
        self.index += 1
        while self.index < len(text) and (not _boundary(text[self.index]) or text[self.index] == "."):
            self.index += 1
        raw = text[start : self.index]
        number = parse_number(raw)
        if math.isnan(number):
            raise self._unexpected(raw, start)
        return self._create(NUMBER, raw, start, number)

    def _read_keyword(self) -> Token:
        text, start = self.expression, self.index
        self.index += 1
        while self.index < len(text) and not _boundary(text[self.index]):
            self.index += 1
        raw = text[start : self.index]
        if not is_legal_keyword(raw):
            raise self._unexpected(raw, start)
        if self.last is not None and self.last.kind == DEREFERENCE:
            return self._create(PROPERTY_NAME, raw, start)
        literals = {
            "null": (NULL, None),
            "true": (BOOLEAN, True),
            "false": (BOOLEAN, False),
            "NaN": (NUMBER, math.nan),
            "Infinity": (NUMBER, math.inf),
        }
        if raw in literals:
            kind, value = literals[raw]
            return self._create(kind, raw, start, value)
        ahead = self.index
        while ahead < len(text) and text[ahead].isspace():
            ahead += 1
        if ahead < len(text) and text[ahead] == "(":
            return self._create(FUNCTION, raw, start)
        return self._create(NAMED_VALUE, raw, start)

    def _read_string(self) -> Token:
        text, start = self.expression, self.index
        self.index += 1
        chars: list[str] = []
        while self.index < len(text):
            c = text[self.index]
            self.index += 1
            if c == "'":
                if self.index >= len(text) or text[self.index] != "'":
                    return self._create(STRING, text[start : self.index], start, "".join(chars))
                self.index += 1  # '' is an escaped quote
            chars.append(c)
        raise self._unexpected(text[start:], start)

    def _read_operator(self) -> Token:
        text, start = self.expression, self.index
        two = text[start : start + 2]
        if two in _OPERATORS_2:
            self.index += 2
            return self._create(OPERATOR, two, start)
        if text[start] in _OPERATORS_1:
            self.index += 1
            return self._create(OPERATOR, text[start], start)
        self.index += 1
        while self.index < len(text) and not _boundary(text[self.index]):
            self.index += 1
        raise self._unexpected(text[start : self.index], start)

    def _create(self, kind: str, raw: str, index: int, value: Any = None) -> Token:
        last_kind = self.last.kind if self.last is not None else None
        if kind == OPERATOR:
            allowed = _OPERAND_START if raw == "!" else _VALUE_END
        else:
            allowed = _LEGAL_AFTER[kind]
        if last_kind not in allowed:
            raise self._unexpected(raw, index)
        token = Token(kind, raw, index, value)
        if kind in (START_GROUP, START_INDEX, START_PARAMETERS):
            self.unclosed.append(token)
        elif kind in (END_GROUP, END_INDEX, END_PARAMETERS):
            opener = {END_GROUP: START_GROUP, END_INDEX: START_INDEX, END_PARAMETERS: START_PARAMETERS}[kind]
            if not self.unclosed or self.unclosed[-1].kind != opener:
                raise self._unexpected(raw, index)
            self.unclosed.pop()
        elif kind == SEPARATOR:
            if not self.unclosed or self.unclosed[-1].kind != START_PARAMETERS:
                raise self._unexpected(raw, index)
        return token
