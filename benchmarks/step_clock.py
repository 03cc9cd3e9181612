"""The clock both sides of `benchmarks.conv_worker`'s pairs time their training steps with."""

import time


class StepClock:
    """Reads the clock at the end of step `warmup_steps` and of step `steps` (counting from 1).

    `sync` is called on those two steps only, before the clock is read: it waits for the step's results
    (JAX dispatches steps ahead), without slowing the steps in between.
    """

    def __init__(self, warmup_steps, steps):
        if not 0 < warmup_steps < steps:
            raise ValueError(f"need 0 < warmup_steps < steps. Received: warmup_steps={warmup_steps}, steps={steps}")
        self.warmup_steps, self.steps, self.done, self.marks = warmup_steps, steps, 0, []

    def step_end(self, sync=None):
        self.done += 1
        if self.done in (self.warmup_steps, self.steps):
            if sync is not None:
                sync()
            self.marks.append(time.perf_counter())

    def rate(self, batch_size):
        """Samples/s over the timed steps."""
        if len(self.marks) != 2:
            raise RuntimeError(f"the trainer ran {self.done} steps; expected {self.steps}")
        return (self.steps - self.warmup_steps) * batch_size / (self.marks[1] - self.marks[0])
