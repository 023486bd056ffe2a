"""What an executed notebook shows: the figures a reader sees, not only the files it saves.

A notebook test runs its kernel with matplotlib's backend set as Jupyter sets it (`INLINE`, what ipykernel
puts in `MPLBACKEND`), so a figure shown with `plt.show()` becomes an output with `image/png` data, as
in Jupyter; with Agg it would show nothing, and neither would a notebook whose imports switched the
backend to Agg (issue 20, item 9).
"""

from __future__ import annotations

from typing import Any

INLINE = "module://matplotlib_inline.backend_inline"


def displayed_images(nb: Any) -> int:
    """How many outputs of the executed notebook `nb` carry an image (`image/png` data)."""
    return sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
