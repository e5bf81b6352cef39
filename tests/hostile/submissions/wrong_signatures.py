# ruff: noqa
"""Wrong signatures: Neuron takes no activation keyword, mse_loss one argument, train no lr."""

_neuron_init = Neuron.__init__


def _neuron_without_activation(self, nin):
    _neuron_init(self, nin)


def _mse_loss_of_pairs(pairs):
    return sum((p - t) ** 2 for p, t in pairs) / len(pairs)


def _train_without_lr(model, xs, ys, steps):
    return []


if ATTACK:
    Neuron.__init__ = _neuron_without_activation
    mse_loss = _mse_loss_of_pairs
    train = _train_without_lr
