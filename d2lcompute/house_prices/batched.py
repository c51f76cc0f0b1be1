"""Train M same-shaped nets at once: k-fold cross-validation as one batched model.

Fold by fold, each mini-batch step of a small net is a tiny matmul, and the Python around it
costs more than the maths. Stacking the k folds' weights along a new first dimension makes each
step one batched matmul (``torch.baddbmm``), with Adam run per fold so that every fold follows
the trajectory it would follow alone. Both recipes' ``k_fold`` use it: the book's trains its k
folds together, the improved one its k folds times its seeds.

Supports ``nn.Sequential`` nets of ``nn.Linear`` (with bias), ``nn.ReLU`` and ``nn.Dropout``.

The one documented exception to "every loop runs on ``Trainer.fit``": the k nets are one
vectorised model with a per-net Adam and per-net early stopping, which ``Trainer``'s one
model and one optimizer cannot express. It watches its losses with the package's one
divergence watch, ``divergence.LossWatch``, as ``Trainer`` does.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from d2lcompute.divergence import LossWatch
from d2lcompute.house_prices.hyper import check_hyper

__all__ = ["fit_batched"]


def fit_batched(
    nets,
    X,
    y,
    train_rows,
    num_epochs,
    learning_rate,
    weight_decay,
    batch_size,
    generators,
    on_epoch,
    patience=None,
    name=lambda m: f"batched net {m}",
):
    """Train ``M = len(nets)`` same-shaped nets at once, each on its own rows; Adam, squared error.

    Net m sees rows ``train_rows[m]`` of ``X`` (shared) or of ``X[m]``, shuffled by
    ``generators[m]`` exactly as ``book.train`` shuffles. The nets' weights are stacked along a new
    first dimension and each step is one batched matmul. Adam runs per net, with its own step
    count: a net whose rows ran out this epoch (sizes may differ) sits the step out, so each net
    follows the trajectory ``train`` would give it. The trained weights go back into ``nets``.

    ``on_epoch(epoch, preds)`` gets eval-mode predictions for all rows, ``(M, n, out)``. For early
    stopping it returns a bool tensor ``(M,)``: which nets improved. Their weights are kept, a
    net that has not improved for ``patience`` epochs stops, and each net ends with its kept
    weights.

    A loss or prediction that becomes NaN or infinite raises ``errors.DivergenceError`` naming
    the net (``name(m)``, e.g. its fold), the epoch and the batch.

    Shape:
        - X: ``(n, d)`` or ``(M, n, d)``; y: ``(n, out)``.
    """
    _check_arguments(nets, X, y, train_rows, generators)
    hyper = check_hyper(num_epochs, learning_rate, weight_decay, batch_size)
    num_epochs, learning_rate, weight_decay, batch_size = hyper
    # one batch holds every row already; a larger size would only allocate padding
    batch_size = min(batch_size, max(len(rows) for rows in train_rows))
    M, n = len(nets), X.shape[-2]
    layers = _stack(nets)
    params = [t for layer in layers for t in layer[1:] if isinstance(layer[0], nn.Linear)]
    moments = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    best = [p.detach().clone() for p in params]
    count = torch.zeros(M, 1, 1, dtype=torch.float64, device=X.device)  # Adam steps, per net
    sizes = [len(rows) for rows in train_rows]
    steps = [math.ceil(size / batch_size) for size in sizes]
    d = X.shape[-1]
    # row r of net m's data is row r (shared X) or m * n + r of the flattened X
    rows_of_X = X.reshape(-1, d)
    offset = 0 if X.dim() == 2 else torch.arange(M, device=X.device)[:, None] * n
    active, since_best, early_stopping = [True] * M, [0] * M, False
    watch = LossWatch(name)  # read once per epoch
    for epoch in range(1, num_epochs + 1):
        order = torch.zeros(M, max(steps) * batch_size, dtype=torch.long)
        weight = torch.zeros(M, max(steps) * batch_size)  # 1/size of the net's batch; 0 = padding
        for m, rows in enumerate(train_rows):
            order[m, : sizes[m]] = rows.cpu()[torch.randperm(sizes[m], generator=generators[m])]
            weight[m, : sizes[m]] = 1
        per_batch = weight.unflatten(1, (-1, batch_size)).sum(2).clamp(min=1)  # (M, steps)
        weight /= per_batch.repeat_interleave(batch_size, 1)
        order, weight = order.to(X.device), weight.to(X.device)
        # gather the epoch's rows once: one large copy is far cheaper than one per step
        X_epoch = rows_of_X.index_select(0, (order + offset).reshape(-1)).view(M, -1, d)
        y_epoch = y.index_select(0, order.reshape(-1)).view(M, -1, y.shape[1])
        for step in range(max(steps)):
            batch = slice(step * batch_size, (step + 1) * batch_size)
            y_hat = _forward(layers, X_epoch[:, batch], True)  # (M, B, out)
            squared = ((y_hat - y_epoch[:, batch]) ** 2).mean(-1)  # (M, B)
            # the nets share no parameter, so the gradient of the sum of their mean losses
            # is, for each net, the gradient of its own loss
            per_net = (squared * weight[:, batch]).sum(1)  # (M,)
            grads = torch.autograd.grad(per_net.sum(), params)
            moving = [a and step < s for a, s in zip(active, steps, strict=True)]
            _adam_step(params, grads, moments, count, moving, learning_rate, weight_decay)
            watch.add(per_net, moved=moving)
        watch.check(batches_per_epoch=max(steps))
        with torch.no_grad():
            preds = _forward(layers, X, False)
            finite = torch.isfinite(preds).flatten(1).all(1).tolist()
            if not all(finite):  # the epoch's last step can make the weights infinite
                m = finite.index(False)
                raise watch.error(epoch, net=m)
            improved = on_epoch(epoch, preds)
        if improved is not None:
            early_stopping = True
            for p, kept in zip(params, best, strict=True):
                kept.copy_(torch.where(improved.to(p.device).view(M, 1, 1), p.detach(), kept))
            since_best = [
                0 if i else s + 1 for i, s in zip(improved.tolist(), since_best, strict=True)
            ]
            active = [
                a and (patience is None or s < patience)
                for a, s in zip(active, since_best, strict=True)
            ]
            if not any(active):
                break
    _unstack(layers, best if early_stopping else params, nets)


def _check_arguments(nets, X, y, train_rows, generators):
    M = len(nets)
    if M == 0 or len(train_rows) != M or len(generators) != M:
        raise ValueError(
            f"fit_batched needs one entry per net in train_rows and generators, got "
            f"{M} nets, {len(train_rows)} train_rows, {len(generators)} generators"
        )
    if X.dim() not in (2, 3) or (X.dim() == 3 and len(X) != M):
        raise ValueError(
            f"X must be (n, d) or (M, n, d) with M = {M} nets, got shape {tuple(X.shape)}"
        )
    if y.dim() != 2 or len(y) != X.shape[-2]:
        raise ValueError(
            f"y must be (n, out) with n = {X.shape[-2]} rows of X, got shape {tuple(y.shape)}"
        )
    empty = [m for m, rows in enumerate(train_rows) if len(rows) == 0]
    if empty:
        raise ValueError(
            f"every net needs training rows; net(s) {empty} have none (fewer rows than folds?)"
        )


def _adam_step(
    params, grads, moments, count, moving, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8
):
    """One ``torch.optim.Adam`` step (same formulas) per net; ``moving[m]``: does net m step."""
    mask = None if all(moving) else torch.tensor(moving, device=count.device).view(-1, 1, 1)
    count += 1 if mask is None else mask
    # in float64, as torch.optim.Adam computes them in Python floats; a net that has not
    # stepped yet has count 0, and any finite value will do for it: its update is masked
    step_size = (lr / (1 - betas[0] ** count.clamp(min=1))).to(params[0].dtype)
    bias_correction2_sqrt = (1 - betas[1] ** count.clamp(min=1)).sqrt().to(params[0].dtype)
    with torch.no_grad():
        for p, grad, (exp_avg, exp_avg_sq) in zip(params, grads, moments, strict=True):
            if weight_decay:
                grad = grad.add(p, alpha=weight_decay)
            new_avg = exp_avg.lerp(grad, 1 - betas[0])
            new_avg_sq = exp_avg_sq.mul(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
            update = new_avg / (new_avg_sq.sqrt() / bias_correction2_sqrt + eps) * step_size
            if mask is not None:
                update = update * mask
                new_avg = torch.where(mask, new_avg, exp_avg)
                new_avg_sq = torch.where(mask, new_avg_sq, exp_avg_sq)
            exp_avg.copy_(new_avg)
            exp_avg_sq.copy_(new_avg_sq)
            p.sub_(update)


def _stack(nets):
    """The M nets as one list of layers; a linear layer becomes ``(layer, W, b)`` with
    ``W`` ``(M, out, in)`` and ``b`` ``(M, out, 1)``, fresh leaves that require gradients."""
    per_net = [list(net) if isinstance(net, nn.Sequential) else [net] for net in nets]
    layers = []
    for group in zip(*per_net, strict=True):
        first = group[0]
        if isinstance(first, nn.Linear) and first.bias is not None:
            W = torch.stack([layer.weight.detach() for layer in group]).requires_grad_()
            b = torch.stack([layer.bias.detach()[:, None] for layer in group]).requires_grad_()
            layers.append((first, W, b))
        elif isinstance(first, (nn.ReLU, nn.Dropout)):
            layers.append((first,))
        else:
            raise TypeError(
                f"batched k-fold training supports nn.Linear (with bias), nn.ReLU and "
                f"nn.Dropout layers, got {type(first).__name__}; pass batched=False"
            )
    return layers


def _unstack(layers, params, nets):
    """Copy the stacked weights ``params`` (in ``_stack``'s order) back into the M nets."""
    per_net = [list(net) if isinstance(net, nn.Sequential) else [net] for net in nets]
    tensors = iter(params)
    with torch.no_grad():
        for j, layer in enumerate(layers):
            if isinstance(layer[0], nn.Linear):
                W, b = next(tensors), next(tensors)
                for m, modules in enumerate(per_net):
                    modules[j].weight.copy_(W[m])
                    modules[j].bias.copy_(b[m, :, 0])


def _forward(layers, X, training):
    """The stacked nets on ``X`` ``(M, B, d)`` or shared ``(B, d)``: ``(M, B, out)``."""
    # Activations are kept transposed, (M, features, B): CPU bmm is several times faster as
    # W (M, out, in) @ H (M, in, B) than as H (M, B, in) @ W^T when out is small (1 here).
    H = X.transpose(-2, -1)
    for layer in layers:
        if isinstance(layer[0], nn.Linear):
            H = torch.baddbmm(layer[2], layer[1], H) if H.dim() == 3 else layer[1] @ H + layer[2]
        elif isinstance(layer[0], nn.ReLU):
            H = F.relu(H)
        else:
            H = F.dropout(H, layer[0].p, training=training)
    return H.transpose(-2, -1)
