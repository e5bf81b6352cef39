# ruff: noqa
"""Always-equal objects: every op returns a Value whose data is a float subclass equal (and
close) to every number, and whose grad is an object equal to everything. Appended to the stubs;
the baseline is the same code with plain zeros."""


class EqualFloat(float):
    """A float that is equal, close and neither smaller nor larger than any number."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __lt__ = __gt__ = __ne__
    __le__ = __ge__ = __eq__
    __hash__ = float.__hash__

    def __sub__(self, other):
        return EqualFloat(0.0)

    __rsub__ = __sub__

    def __abs__(self):
        return EqualFloat(0.0)


class EqualObject:
    """Not a number at all, but equal to everything."""

    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


if not ATTACK:
    EqualFloat = float
    EqualObject = float


class Value:
    """Replaces the stub: every op answers at once with always-equal numbers."""

    def __init__(self, data, _children=(), _op=""):
        self.data = EqualFloat(0.0)
        self.grad = EqualObject()

    def _anything(self, *args):
        return Value(0.0)

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _anything
    __truediv__ = __rtruediv__ = __pow__ = __neg__ = _anything
    tanh = exp = relu = log = _anything

    def backward(self):
        self.grad = EqualObject()
