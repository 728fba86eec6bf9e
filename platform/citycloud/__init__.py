"""citycloud: a city government's private cloud as code.

The package is layered bottom-up: ``spec`` (what people write), ``desired``
(what every layer must hold), ``plan`` (the difference with what is there),
then one adapter per outside system, the state store, and the CLI on top.
"""

__version__ = "0.1.0"
