"""Data-parallel training under ``torchrun``: PyTorch's ``DistributedDataParallel`` around our loop.

Kept whole (~380 lines): launch, sharding and DDP are one story, told below, used as one.

Book (d2l.ai 1.0): §13.5-13.6, training on several GPUs, where the book's answer for
real work is the framework's own machinery. Here that machinery is
``torch.nn.parallel.DistributedDataParallel`` (DDP) in processes started by ``torchrun``;
this module adds only what the book's loops need around it:

- a launch is recognised by torchrun's environment (``RANK``, ``LOCAL_RANK``,
  ``WORLD_SIZE``); without it every function here is a no-op and nothing changes;
- the process group starts once per process, on first need (``start``), with NCCL when
  every rank of the machine has its own CUDA device (``LOCAL_RANK`` picks it; CPU tensors
  still go through gloo) and gloo otherwise, and ends when Python exits, also after an
  error or Ctrl-C;
- ``ShardedLoader`` gives each rank its share of every mini-batch of the same shuffled
  order, so the global mini-batch stays ``batch_size``;
- ``all_reduce_sums`` and ``weighted_share`` turn per-rank counts and means into global
  ones, once per plotted point or per epoch (never per batch: a collective and a
  device-to-host copy each);
- ``is_main_process`` says who prints, draws and writes files (rank 0).

``data_parallel`` makes ``model.training_step`` run through DDP, which averages the
ranks' gradients. When a batch does not split evenly, a rank's mean loss is weighted by
``ShardedLoader.loss_weight`` so that the average is the gradient of the whole batch's
mean loss, as in one process. DDP is built at the first training step, once per ``fit``,
after lazy modules (``nn.LazyLinear``, the English edition's concise models) got their
shapes from that step's share: the book's cells train unchanged, from the initial values
one process would draw. ``Trainer.fit`` uses all this only with 2 or more processes: one
process has nothing to share or average, and trains as without torchrun.
"""

import atexit
import contextlib
import gc
import os

import torch
from torch import nn

from d2lcompute import _seeding

_LAUNCH_VARIABLES = ("RANK", "LOCAL_RANK", "WORLD_SIZE")


def is_launched():
    """True in a process started by ``torchrun`` (its environment variables are set)."""
    return all(name in os.environ for name in _LAUNCH_VARIABLES)


def is_active():
    """True once this process is in a started process group (see :func:`start`)."""
    return torch.distributed.is_available() and torch.distributed.is_initialized()


def rank():
    """This process's rank, from 0 to ``world_size() - 1``; 0 without torchrun."""
    return int(os.environ["RANK"]) if is_launched() else 0


def local_rank():
    """This process's rank on its own machine; 0 without torchrun."""
    return int(os.environ["LOCAL_RANK"]) if is_launched() else 0


def world_size():
    """The number of processes that train together; 1 without torchrun."""
    return int(os.environ["WORLD_SIZE"]) if is_launched() else 1


def is_main_process():
    """True in the process that prints, draws and writes files: rank 0, or the only one."""
    return rank() == 0


def _has_own_gpus():
    """True when every rank on this machine can have a CUDA device of its own."""
    local_ranks = int(os.environ.get("LOCAL_WORLD_SIZE", local_rank() + 1))
    return torch.cuda.is_available() and torch.cuda.device_count() >= local_ranks


def local_device(device):
    """Under torchrun, this rank's own GPU (``cuda:LOCAL_RANK``) for a CUDA ``device``.

    Every other device, and every device without torchrun, comes back unchanged.
    """
    device = torch.device(device)
    if device.type == "cuda" and is_launched() and _has_own_gpus():
        return torch.device("cuda", local_rank())
    return device


def start():
    """Start this process's process group if torchrun launched it; True when there is one.

    Called by ``Trainer.fit`` and the data loaders, so user code calls nothing. The group
    lives until Python exits (a group cannot be started twice in one process) and is
    ended then, also after an exception or Ctrl-C.
    """
    if not is_launched():
        return False
    if not is_active():
        backend = "gloo"
        if _has_own_gpus():
            torch.cuda.set_device(local_rank())
            backend = "cpu:gloo,cuda:nccl"  # metrics and RNG states are CPU tensors
        if "TORCHELASTIC_RESTART_COUNT" in os.environ:  # torchrun's agent holds the store
            torch.distributed.init_process_group(
                backend, store=_attempt_store(), rank=rank(), world_size=world_size()
            )
        else:  # launched by hand with torchrun's variables
            torch.distributed.init_process_group(backend)
        atexit.register(_stop)
    return True


def _attempt_store():
    """torchrun's store, under a prefix of its own for each restart of the workers.

    After ``--max-restarts`` restarts the workers, the default store still holds the killed
    round's addresses, and gloo tries to connect to them; a prefix per attempt keeps the
    rounds apart.
    """
    store = torch.distributed.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        world_size=world_size(),
        is_master=False,
    )
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return torch.distributed.PrefixStore(f"d2lcompute-attempt-{attempt}", store)


def _stop():
    # A DDP reducer holds the group. One left in a reference cycle would be freed only
    # while the interpreter shuts down, where gloo then aborts ("terminate called without
    # an active exception", SIGABRT, in about 1 run of 8): free it now, then end the group.
    gc.collect()
    if is_active():
        torch.distributed.destroy_process_group()


@contextlib.contextmanager
def main_process_first():
    """Run the ``with`` block on rank 0 of each machine first, then on the other ranks.

    For downloads: the first rank fetches the files while the others wait at a barrier,
    then find them in place. Without torchrun the block just runs.
    """
    if not start():
        yield
        return
    if local_rank() != 0:
        torch.distributed.barrier()
    yield
    if local_rank() == 0:
        torch.distributed.barrier()


def shard_bounds(n, rank, world_size):
    """Rows ``[start, stop)`` of ``rank``'s share of a batch of ``n`` examples.

    Shares differ by at most one example: the first ``n % world_size`` ranks take one more,
    so no example is dropped or repeated.

    Example::

        >>> [shard_bounds(5, r, 2) for r in range(2)]
        [(0, 3), (3, 5)]
    """
    base, extra = divmod(n, world_size)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def shard(batch):
    """This rank's rows (:func:`shard_bounds`) of each tensor of ``batch``, a sequence of tensors.

    Shape:
        ``(N, ...)`` becomes ``(n_r, ...)``; without torchrun the batch comes back whole.
    """
    start, stop = shard_bounds(len(batch[0]), rank(), world_size())
    return type(batch)(t[start:stop] for t in batch)


class ShardedLoader:
    """This rank's share of every mini-batch of ``loader``, used like ``loader`` itself.

    Before each pass every rank takes rank 0's random state, so all ranks draw the same
    shuffled order (even when they were seeded differently); once it is drawn, each rank
    continues from a seed of its own (dropout masks differ between shares). Each rank
    keeps its rows of each batch (:func:`shard_bounds`). ``len``, ``dataset`` and
    ``batch_size`` are those of ``loader``: the global mini-batch stays ``batch_size``.

    Attributes (for the latest batch):
        global_size: the number of examples in the whole batch, ``N``.
        shard_size: the number in this rank's share, ``n_r`` (0 when ``N`` < ranks).
        loss_weight: ``world_size * n_r / N``, what a mean loss over the share is
            multiplied by so that DDP's average of gradients is the whole batch's.

    Shape:
        A batch is a sequence of tensors with the examples along dimension 0: ``(N, ...)``
        becomes ``(n_r, ...)``.
    """

    def __init__(self, loader):
        self.loader = loader
        self.global_size = self.shard_size = None

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):  # dataset, batch_size, ...: the wrapped loader's
        if name == "loader":  # not set yet (while unpickling, say)
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __iter__(self):
        _share_random_state()
        for i, batch in enumerate(self.loader):
            if i == 0:  # the order is drawn: from here on each rank draws its own numbers
                _split_random_state()
            self.global_size = len(batch[0])
            share = shard(batch)
            self.shard_size = len(share[0])
            yield share

    @property
    def loss_weight(self):
        return world_size() * self.shard_size / self.global_size

    def __repr__(self):
        return f"{type(self).__name__}({self.loader!r}, rank {rank()} of {world_size()})"


def _share_random_state():
    """Give every rank rank 0's CPU random state (loaders draw their shuffles from it)."""
    state = torch.get_rng_state()
    torch.distributed.broadcast(state, src=0)
    torch.set_rng_state(state)


def _split_random_state():
    """Seed ranks other than 0 apart (CPU and GPUs), from the shared state, reproducibly.

    Without it, equal shares would get equal dropout masks: rank 1's rows the same as
    rank 0's. Rank 0 keeps its stream, which is one process's: the next pass's shuffle,
    drawn from it, is the one a single process draws.
    """
    if rank() != 0:
        _seeding.split_stream(rank())


def all_reduce_sums(*values):
    """The sums over all ranks of each of ``values`` (numbers or one-element tensors), as floats.

    One collective call, which every rank must make; without torchrun, the values.

    Example::

        >>> all_reduce_sums(2, torch.tensor(3.5))   # one process
        [2.0, 3.5]
    """
    values = [float(v.detach() if torch.is_tensor(v) else v) for v in values]
    if not is_active():
        return values
    sums = torch.tensor(values, dtype=torch.float64)  # exact for counts up to 2**53
    torch.distributed.all_reduce(sums)
    return sums.tolist()


def all_reduce_min(value):
    """The smallest ``value`` (a number) over all ranks, as a float; without torchrun, ``value``."""
    if not is_active():
        return float(value)
    smallest = torch.tensor([float(value)], dtype=torch.float64)
    torch.distributed.all_reduce(smallest, op=torch.distributed.ReduceOp.MIN)
    return smallest.item()


def weighted_share(value, loader):
    """``value``, a mean over this rank's share of ``loader``'s batch, weighted for summing.

    The sum over ranks of the weighted shares, divided by ``world_size()``, is the whole
    batch's mean (see :func:`all_reduce_sums`); an empty share adds 0. Without torchrun
    (``loader`` is not a ``ShardedLoader``), ``value`` unchanged. Nothing is read or sent.
    """
    if not isinstance(loader, ShardedLoader):
        return value
    if not loader.shard_size:  # an empty share's mean is NaN
        return torch.zeros(()) if torch.is_tensor(value) else 0.0
    return value * loader.loss_weight


class _TrainingStep(nn.Module):
    """The model's ``training_step`` as a module's ``forward``, which DDP must call.

    The class's method is looked up at each call (the instance's ``training_step`` is this
    step while training, see :func:`data_parallel`). The loss, the mean over this rank's
    share, comes back weighted by the share's ``loss_weight``: DDP averages the ranks'
    gradients, and that average is then the gradient of the whole batch's mean loss.
    """

    def __init__(self, model, loader):
        super().__init__()
        self.model = model
        self.loader = loader

    def forward(self, batch):
        loss = type(self.model).training_step(self.model, batch)
        if not self.loader.shard_size:  # no examples: a NaN mean, and no gradient to give
            return loss.nan_to_num() * 0.0
        return loss * self.loader.loss_weight


class _DataParallelStep:
    """``model.training_step`` under torchrun: DDP around :class:`_TrainingStep`.

    DDP is built at the first call, once per ``fit``: lazy modules (``nn.LazyLinear``, which
    the English edition's concise models use) first get their shapes from a forward pass on
    that batch's share, as ``Module.apply_init`` does, since DDP cannot take uninitialised
    parameters. By then the loader has drawn its order from the state every rank shares and
    rank 0 still draws one process's stream, so rank 0's initial values are one process's;
    DDP copies them to the other ranks.
    """

    def __init__(self, model, loader):
        self.step = _TrainingStep(model, loader)
        self.ddp = None

    def __call__(self, batch):
        if self.ddp is None:
            _initialize_lazy(self.step.model, batch)
            device = next(self.step.model.parameters()).device
            self.ddp = nn.parallel.DistributedDataParallel(
                self.step, device_ids=[device] if device.type == "cuda" else None
            )
        return self.ddp(batch)


def _initialize_lazy(model, batch):
    """Give lazy parameters their shapes: ``model`` on the inputs ``batch[:-1]``, no gradient.

    In eval mode (no dropout mask drawn, no batch-norm statistics updated); the model's mode
    comes back after. Nothing happens when no parameter or buffer is lazy.
    """
    tensors = [*model.parameters(), *model.buffers()]
    if not any(nn.parameter.is_lazy(t) for t in tensors):
        return
    device = tensors[0].device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*(t.to(device) for t in batch[:-1]))
    finally:
        model.train(was_training)


def data_parallel(model, loader):
    """Make ``model.training_step`` run through ``DistributedDataParallel`` until :func:`undo`.

    Whatever calls ``model.training_step(batch)`` (our ``fit_epoch`` or a book cell's) then
    gets the weighted loss of this rank's share of ``loader``'s batch, and its ``backward``
    averages the gradients over all ranks. At the first call lazy modules get their shapes
    and rank 0's parameters and buffers are copied to every rank (:class:`_DataParallelStep`).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise TypeError(
            f"under torchrun the model's parameters must be registered (an "
            f"nn.Module with nn.Parameter weights) so DDP can average their "
            f"gradients; {type(model).__name__} has none that require grad"
        )
    # in the instance's __dict__, not registered as a submodule (nn.Module.__setattr__ would)
    object.__setattr__(model, "training_step", _DataParallelStep(model, loader))


def undo(model):
    """End :func:`data_parallel`: ``model.training_step`` is the class's method again.

    It also frees the DDP reducer, which holds the process group; one freed only at
    interpreter shutdown, after the group was destroyed, can abort the process.
    """
    vars(model).pop("training_step", None)
