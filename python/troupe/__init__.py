"""troupe: TinyTroupe's Python API over a Troupe session (`coordinator serve`).

A TinyTroupe notebook changes little more than its imports:

    from troupe import TinyPerson, TinyWorld, TinySocialNetwork, TinyPersonFactory
    from troupe.extraction import ResultsExtractor, ResultsReducer
    import troupe.control as control

The package starts `coordinator serve` itself (found via $TROUPE_COORDINATOR, the repository's
build/bin/coordinator, or PATH) the first time an agent or a world is made, or at
`control.begin(path)`; the server is ended at `control.end()` or when Python exits.
Standard library only; pandas is used when installed.
"""

from . import control
from .agent import TinyPerson
from .environment import TinySocialNetwork, TinyWorld
from .errors import (BadRequestError, NameConflictError, SessionClosedError, SessionStartError,
                     SimulationFailedError, TooLargeError, TroupeError, UnauthorisedError,
                     UnknownAgentError, UnknownWorldError)
from .experimentation import Proposition, check_proposition, compute_score
from .extraction import ResultsExtractor, ResultsReducer
from .factory import TinyPersonFactory
from .session import Session, find_coordinator

__version__ = "0.1.0"

__all__ = ["TinyPerson", "TinyWorld", "TinySocialNetwork", "TinyPersonFactory",
           "ResultsExtractor", "ResultsReducer", "Proposition", "check_proposition",
           "compute_score", "control", "Session", "find_coordinator",
           "TroupeError", "BadRequestError", "UnknownAgentError", "UnknownWorldError",
           "NameConflictError", "UnauthorisedError", "TooLargeError", "SimulationFailedError",
           "SessionClosedError", "SessionStartError"]
