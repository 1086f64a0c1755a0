"""Parse an expression into a small tree (precedence as the runner: ``!`` > comparisons > ``==`` > ``&&`` > ``||``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ci_helper.record import FrozenRecord
from ci_helper.runner.expressions import lexer as lx
from ci_helper.runner.expressions.errors import ParseError
from ci_helper.runner.expressions.functions import FUNCTIONS, STATUS_FUNCTIONS

MAX_DEPTH = 50


# Tree nodes: value classes (ci_helper/record.py), compared and hashed by their fields.
class Literal(FrozenRecord):
    __slots__ = ("value",)
    _fields = __slots__

    def __init__(self, value: Any) -> None:
        self.value = value


class NamedValue(FrozenRecord):
    __slots__ = ("name",)
    _fields = __slots__

    def __init__(self, name: str) -> None:
        self.name = name


class Wildcard(FrozenRecord):
    __slots__ = ()


class Index(FrozenRecord):
    __slots__ = ("target", "index")
    _fields = __slots__

    def __init__(self, target: Any, index: Any) -> None:
        self.target = target
        self.index = index  # a node, or Wildcard()


class Not(FrozenRecord):
    __slots__ = ("operand",)
    _fields = __slots__

    def __init__(self, operand: Any) -> None:
        self.operand = operand


class Binary(FrozenRecord):
    __slots__ = ("operator", "left", "right")
    _fields = __slots__

    def __init__(self, operator: str, left: Any, right: Any) -> None:
        self.operator = operator
        self.left = left
        self.right = right


class Logical(FrozenRecord):
    """``a && b && c`` (or ``||``) as one node, as the runner keeps it."""

    __slots__ = ("operator", "operands")
    _fields = __slots__

    def __init__(self, operator: str, operands: tuple[Any, ...]) -> None:
        self.operator = operator
        self.operands = operands


class Call(FrozenRecord):
    __slots__ = ("name", "args")
    _fields = __slots__

    def __init__(self, name: str, args: tuple[Any, ...]) -> None:
        self.name = name  # canonical spelling, e.g. "startsWith"
        self.args = args


def walk(node: Any) -> Iterable[Any]:
    yield node
    if isinstance(node, Index):
        yield from walk(node.target)
        yield from walk(node.index)
    elif isinstance(node, Not):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Logical):
        for operand in node.operands:
            yield from walk(operand)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


def uses_status_function(node: Any) -> bool:
    return any(isinstance(n, Call) and n.name in STATUS_FUNCTIONS for n in walk(node))


def _children(node: Any) -> tuple[Any, ...]:
    if isinstance(node, Index):
        return (node.target, node.index)
    if isinstance(node, Not):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Call):
        return node.args
    return ()


def _depth(node: Any) -> int:
    """Tree depth, without recursion: a 21,000-character chain must not overflow Python's stack."""
    deepest = 0
    stack = [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in _children(current))
    return deepest


_BINARY_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))


class _Parser:
    def __init__(self, expression: str, named_values: set[str] | None, functions: set[str] | None) -> None:
        self.expression = expression
        self.tokens = lx.Lexer(expression).tokens()
        self.position = 0
        self.named_values = {n.lower() for n in named_values} if named_values is not None else None
        # Lower-cased name -> canonical name of every function this position allows.
        allowed = functions if functions is not None else set(FUNCTIONS)
        self.functions = {name.lower(): name for name in allowed}
        self.nesting = 0

    def error(self, description: str, token: lx.Token | None = None) -> ParseError:
        if token is None:
            return ParseError(description, self.expression)
        return ParseError(description, self.expression, token.raw, token.index)

    def peek(self) -> lx.Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> lx.Token:
        token = self.peek()
        if token is None:
            # As the runner: name the last token before the end, where the expression stopped short.
            raise self.error("Unexpected end of expression", self.tokens[-1])
        self.position += 1
        return token

    def parse(self) -> Any:
        if not self.tokens:
            return Literal(None)  # an empty expression is null (GitHub's data); `${{ }}` is refused by the template
        node = self.binary(0)
        extra = self.peek()
        if extra is not None:
            raise self.error("Unexpected symbol", extra)
        if _depth(node) > MAX_DEPTH:
            raise self.error(f"Exceeded max expression depth {MAX_DEPTH}")
        return node

    def binary(self, level: int) -> Any:
        if level == len(_BINARY_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        operands = [node]
        while True:
            token = self.peek()
            if token is None or token.kind != lx.OPERATOR or token.raw not in _BINARY_LEVELS[level]:
                break
            self.position += 1
            if token.raw in ("&&", "||"):
                operands.append(self.binary(level + 1))
            else:
                node = Binary(token.raw, node, self.binary(level + 1))
        if len(operands) > 1:
            return Logical(_BINARY_LEVELS[level][0], tuple(operands))
        return node

    def nest(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"Exceeded max expression depth {MAX_DEPTH}")

    def unary(self) -> Any:
        token = self.peek()
        if token is not None and token.kind == lx.OPERATOR and token.raw == "!":
            self.position += 1
            self.nest()
            node = Not(self.unary())
            self.nesting -= 1
            return node
        return self.postfix(self.primary())

    def primary(self) -> Any:
        token = self.take()
        if token.kind in (lx.NULL, lx.BOOLEAN, lx.NUMBER, lx.STRING):
            return Literal(token.value)
        if token.kind == lx.NAMED_VALUE:
            if self.named_values is not None and token.raw.lower() not in self.named_values:
                raise self.error("Unrecognized named-value", token)
            return NamedValue(token.raw.lower())
        if token.kind == lx.START_GROUP:
            self.nest()
            node = self.binary(0)
            self.expect(lx.END_GROUP)
            self.nesting -= 1
            return node
        if token.kind == lx.FUNCTION:
            return self.call(token)
        raise self.error("Unexpected symbol", token)

    def call(self, token: lx.Token) -> Any:
        name = self.functions.get(token.raw.lower())
        if name is None:
            raise self.error("Unrecognized function", token)
        self.expect(lx.START_PARAMETERS)
        self.nest()
        args = []
        following = self.peek()
        if following is not None and following.kind == lx.END_PARAMETERS:
            self.position += 1
        else:
            while True:
                args.append(self.binary(0))
                closing = self.take()
                if closing.kind == lx.END_PARAMETERS:
                    break
                if closing.kind != lx.SEPARATOR:
                    raise self.error("Unexpected symbol", closing)
        self.nesting -= 1
        minimum, maximum = FUNCTIONS[name].arity
        if len(args) < minimum:
            raise self.error("Too few parameters supplied", token)
        if len(args) > maximum:
            raise self.error("Too many parameters supplied", token)
        if name == "case" and len(args) % 2 == 0:
            raise self.error("Even number of parameters supplied, requires an odd number of parameters", token)
        return Call(name, tuple(args))

    def postfix(self, node: Any) -> Any:
        while True:
            token = self.peek()
            if token is None:
                return node
            if token.kind == lx.DEREFERENCE:
                self.position += 1
                name = self.take()
                if name.kind == lx.WILDCARD:
                    node = Index(node, Wildcard())
                elif name.kind == lx.PROPERTY_NAME:
                    node = Index(node, Literal(name.raw))
                else:
                    raise self.error("Unexpected symbol", name)
            elif token.kind == lx.START_INDEX:
                self.position += 1
                self.nest()
                inner = self.peek()
                if inner is not None and inner.kind == lx.WILDCARD:
                    self.position += 1
                    node = Index(node, Wildcard())
                else:
                    node = Index(node, self.binary(0))
                self.expect(lx.END_INDEX)
                self.nesting -= 1
            else:
                return node

    def expect(self, kind: str) -> lx.Token:
        token = self.take()
        if token.kind != kind:
            raise self.error("Unexpected symbol", token)
        return token


def parse(expression: str, named_values: set[str] | None = None, functions: set[str] | None = None) -> Any:
    """Parse ``expression`` (without ``${{ }}``) into a tree; raise :class:`ParseError`.

    ``named_values`` / ``functions`` are what the position allows (None: any
    named-value; every function, status functions included).
    """
    return _Parser(expression, named_values, functions).parse()
