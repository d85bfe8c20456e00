"""The executor contract as the hub runs it: in a separate interpreter, so plugin code never runs in the caller.

``run_contract(target)`` is what ``modahub publish`` calls; ``modahub test`` runs the same rules
in its own process (:func:`modahub_hub.contract_targets.run_here`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from modahub_hub.contract_targets import ContractReport


class ContractRunError(RuntimeError):
    """The contract could not be run at all (bad target, interpreter without modahub, crash)."""


def run_contract(
    target: str | Path,
    *,
    executors: Sequence[str] | None = None,
    python: str | Path | None = None,
    timeout: float = 600.0,
) -> ContractReport:
    """Run the contract on a plugin folder or installed plugin name in ``python`` (default: this interpreter).

    Returns the report (``report.ok``, ``report.failures``, ``report.errors``); raises
    :class:`ContractRunError` when the target is not a plugin or the run itself fails.
    """
    command = [str(python or sys.executable), "-m", "modahub_hub.contract", str(target)]
    for name in executors or ():
        command += ["--executor", name]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ContractRunError(f"contract run on {target} did not finish in {timeout:.0f} s") from None
    if done.returncode not in (0, 1):
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ContractRunError(f"contract run on {target} failed (exit {done.returncode}): {detail}")
    return ContractReport.from_dict(json.loads(done.stdout))


def _main(argv: list[str]) -> int:
    import argparse
    import contextlib

    from modahub_hub.contract_targets import ContractTargetError, run_here

    parser = argparse.ArgumentParser(prog="python -m modahub_hub.contract")
    parser.add_argument("target")
    parser.add_argument("--executor", action="append")
    args = parser.parse_args(argv)
    try:
        with contextlib.redirect_stdout(sys.stderr):  # plugin prints must not corrupt the JSON
            report = run_here(args.target, executors=args.executor)
    except ContractTargetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report.to_dict()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
