"""numpy's ABI rule on real wheels from the package index (shared wheelhouse cache).

The case from the field: a conda file pinning ``scikit-learn=1.2.2`` with ``numpy``
unpinned. scikit-learn 1.2.2 has cp311 wheels, compiled against numpy 1.x; pip alone picks
numpy 2.x, under which ``import sklearn`` fails with "numpy.dtype size changed".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.errors import ImageBuildError
from devkit.images.abi import capped, numpy_abi, numpy_version, resolve_compatible
from devkit.images.conda import load_conda_file
from devkit.images.wheelhouse import Target, resolve

TARGET = Target(python="3.11", machine="x86_64", glibc="2.36")


def test_sklearn_122_with_unpinned_numpy_gets_numpy_1() -> None:
    plain = resolve(["scikit-learn==1.2.2.*", "numpy"], TARGET)
    assert (numpy_version(plain.wheels) or "").startswith("2.")  # what pip alone picks
    sklearn = next(w for w in plain.wheels if w.name.startswith("scikit_learn-1.2.2-"))
    assert numpy_abi(sklearn) == "1"

    compatible = resolve_compatible(["scikit-learn==1.2.2.*", "numpy"], TARGET)

    assert compatible.pins == ("numpy<2",)
    assert (numpy_version(compatible.resolution.wheels) or "").startswith("1.")
    assert [w.name.split("-")[0] for w in compatible.resolution.wheels].count("numpy") == 1
    [notice] = compatible.notices
    assert "scikit-learn 1.2.2 was compiled against numpy 1.x" in notice
    assert "conda picks the same" in notice


def test_wheels_built_for_numpy_2_keep_numpy_2() -> None:
    compatible = resolve_compatible(["scikit-learn==1.5.2", "numpy"], TARGET)
    sklearn = next(w for w in compatible.resolution.wheels if w.name.startswith("scikit_learn"))
    assert numpy_abi(sklearn) == "2"
    assert compatible.pins == () and compatible.notices == ()
    assert (numpy_version(compatible.resolution.wheels) or "").startswith("2.")


def test_numpy_2_pinned_beside_a_numpy_1_build_is_the_named_clash() -> None:
    with pytest.raises(ImageBuildError) as info:
        resolve_compatible(["scikit-learn==1.2.2.*", "numpy==2.1.*"], TARGET)
    assert str(info.value).startswith(
        "scikit-learn 1.2.2 was compiled against numpy 1.x and cannot load with numpy 2.1")
    assert "the environment asks for numpy==2.1.*" in str(info.value)
    assert "pin numpy<2" in str(info.value)


def test_conda_file_of_the_field_case_resolves_compatibly(tmp_path: Path) -> None:
    path = tmp_path / "conda.yml"
    path.write_text("dependencies:\n  - python=3.9\n  - numpy\n  - scikit-learn=1.2.2\n")
    conda = load_conda_file(path)
    compatible = resolve_compatible(conda.requirements, TARGET)
    assert compatible.pins == ("numpy<2",)


def test_the_cap_merges_into_an_existing_numpy_requirement() -> None:
    assert capped(["numpy", "six"]) == ["numpy<2", "six"]
    assert capped(["numpy>=1.20", "six"]) == ["numpy<2,>=1.20", "six"]
    assert capped(["six"]) == ["six", "numpy<2"]
