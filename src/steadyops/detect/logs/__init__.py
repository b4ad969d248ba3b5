"""Log template mining: masking of variable values and a streaming, persistent template miner."""

from steadyops.detect.logs.masking import Masker, mask, tokenize
from steadyops.detect.logs.miner import Match, MinerConfig, Template, TemplateMiner

__all__ = ["Masker", "Match", "MinerConfig", "Template", "TemplateMiner", "mask", "tokenize"]
