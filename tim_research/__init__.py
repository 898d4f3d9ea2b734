"""tim_research: scoring and analysis for trauma-informed mentoring programs."""

from tim_research.errors import DataError, InstrumentError, TimResearchError
from tim_research.instruments import Instrument, list_instruments, load_instrument
from tim_research.scoring import score

__all__ = [
    "DataError",
    "Instrument",
    "InstrumentError",
    "TimResearchError",
    "list_instruments",
    "load_instrument",
    "score",
]
__version__ = "0.1.0"
