"""Test helpers shipped with steadyops: fake clock, local receivers, service fixtures."""
