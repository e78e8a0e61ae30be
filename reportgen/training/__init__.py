"""Training one run: ``train(planned, data, device) -> RunResult``, with its optimizers, schedules, losses,
augmentation and epoch control. Imports torch; loaded only when something is trained or measured."""
