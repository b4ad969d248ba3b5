"""The vocabulary every layer shares: domain models, the exception tree, time, the message catalogue,
the inventory (targets and their topology) and the small pieces of text handling every stage needs.

Nothing here imports anything above it in steadyops, so any layer (and any plugin) can depend on it
without dragging in the pipeline, the store or an integration.
"""
