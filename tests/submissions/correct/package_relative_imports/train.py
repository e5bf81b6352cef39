"""The loss and the training loop."""

from .engine import Value


def mse_loss(predictions, targets):
    errors = [(pred - target) ** 2 for pred, target in zip(predictions, targets)]
    return sum(errors[1:], errors[0]) / len(errors)


def train(model, xs, ys, steps=20, lr=0.05):
    losses = []
    step = 0
    while step < steps:
        preds = [model(x) for x in xs]
        loss = mse_loss(preds, ys)
        model.zero_grad()
        loss.backward()
        losses.append(loss.data)
        for param in model.parameters():
            param.data = param.data - lr * param.grad
        step += 1
    return losses
