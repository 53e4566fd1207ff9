"""The researchers' notebook (docs/examples/researcher.ipynb) runs from top to bottom, on a tiny configuration."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "examples" / "researcher.ipynb"
TINY = ["period.end=2011-04-30", "scale.people_per_agent=20000", "scale.cell_degrees=1.0"]


def test_the_committed_notebook_has_a_parameters_cell_and_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and "REPLICATES" in tagged[0].source
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


@pytest.mark.slow
def test_the_notebook_runs_batch_compare_explore_discover_and_replay(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = f"OUT = {str(tmp_path / 'out')!r}\nREPLICATES = 4\nOVERRIDES = {TINY!r}\nWORKERS = 1\n"
    NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
                   ).execute()
    text = "\n".join(str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
                     + str(output.get("data", {}).get("text/markdown", ""))
                     for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs)
    assert "identical to the stored run: {'events': True, 'daily': True}" in text
    assert "religion law: the condition holds in 0 of 4 cases" in text
    assert "It restricts" in text
    assert (tmp_path / "out" / "law-report_files" / "effects.svg").is_file()
    assert (tmp_path / "out" / "sweeps-report_files" / "frontier.svg").is_file()
