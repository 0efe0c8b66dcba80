"""Online detectors: River models per entity over windowed metrics, emitting alert records.

``DETECTORS`` maps the ``model.type`` of a detector spec to its class; adding a detector is one
module with one class, exported here.
"""

from __future__ import annotations

from lakesentinel.detectors.base import Detector
from lakesentinel.detectors.forecast import ForecastResidualDetector
from lakesentinel.detectors.hst import HalfSpaceTreesDetector
from lakesentinel.detectors.robust import RobustQuantileDetector

DETECTORS: dict[str, type[Detector]] = {
    "half_space_trees": HalfSpaceTreesDetector,
    "forecast_residual": ForecastResidualDetector,
    "robust_quantile": RobustQuantileDetector,
}

__all__ = ["DETECTORS", "Detector", "ForecastResidualDetector", "HalfSpaceTreesDetector", "RobustQuantileDetector"]
