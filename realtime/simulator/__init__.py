"""The telemetry simulator: a scene's bound devices publishing as their vendors' devices would.

:class:`Simulation` is the pure, seeded clock of who says what when (tested without a broker);
:func:`run_simulation` publishes it to a real broker through :mod:`realtime.mqtt`, at the devices'
own pace or at a chosen rate, with scripted scenarios (:data:`SCENARIOS`).
"""

from realtime.simulator.engine import Simulation
from realtime.simulator.publish import SimulateReport, run_simulation
from realtime.simulator.scenarios import SCENARIOS
from realtime.simulator.styles import SimMessage

__all__ = ["SCENARIOS", "SimMessage", "SimulateReport", "Simulation", "run_simulation"]
