"""ComplexFuncBench (Zhong et al., 2025) in NESTFUL's format, as the ``nestful-wrapper`` wheel ships it.

1,000 multi-step booking tasks (hotels, flights, car rental, attractions, taxis) over 40 Booking.com APIs:
``data_v1/complexfuncbench/complexfuncbench-{data,spec}.json`` (about 100 MB each, streamed). The layout and
the conversion are NESTFUL's (``datasets.sources.nestful``): ``input`` → ``user`` (it often opens with the
date: "Today is October 13th, 2024."), the call sequence → ``tool_call_ground_truth`` with ``$varN.path$`` as
``<link>`` + ``depend_on``. A path such as ``$var1.coordinates.latitude$`` whose call returned a list means
the first element's field (ComplexFuncBench's convention); it is kept as written.

Not kept: each call's recorded ``response`` (the real API answers, most of the 100 MB) and the
``sample_responses`` of the catalogue; ``num_successful_calls`` and ``errors`` go to ``meta.nestful``.
The one subset, ``test``, is an evaluation subset.
"""

from __future__ import annotations

from typing import Any

from ...format.sample import Sample
from .base import Context, RawRecord
from .nestful import NESTFUL


class ComplexFuncBench(NESTFUL):
    name = "ComplexFuncBench"
    aliases = ("complex-func-bench", "complexfuncbench-nestful")
    license = "Apache-2.0"
    homepage = "https://github.com/THUDM/ComplexFuncBench"
    description = "ComplexFuncBench: 1,000 long-context multi-step booking tasks, in NESTFUL's format (nestful-wrapper 0.1.7)"
    files = {"test": ("complexfuncbench/complexfuncbench-data.json", "complexfuncbench/complexfuncbench-spec.json")}
    subsets = ("test",)
    evaluation_subsets = ("test",)

    def convert(self, record: RawRecord, ctx: Context) -> Sample:
        sample = super().convert(record, ctx)
        data: dict[str, Any] = record.data
        own = sample[0]["content"].setdefault("nestful", {})
        if "num_successful_calls" in data:
            own["num_successful_calls"] = data["num_successful_calls"]
        errors = [step.get("errors") for step in data["output"] if isinstance(step, dict) and step.get("errors")]
        if errors or data.get("errors"):
            own["errors"] = {"sequence": data.get("errors") or [], "calls": errors}
        return sample
