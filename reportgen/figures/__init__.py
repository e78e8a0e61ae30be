"""Plot functions: ``plot_*(data, *, ax=None) -> Axes`` that only draw (scikit-learn's Display habit)."""

from reportgen.figures.confusion import plot_confusion, plot_confusion_pair
from reportgen.figures.curves import plot_curves, plot_curves_grid
from reportgen.figures.grid import plot_grid_marginal
from reportgen.figures.style import house_style, new_figure

__all__ = ["house_style", "new_figure", "plot_confusion", "plot_confusion_pair", "plot_curves", "plot_curves_grid",
           "plot_grid_marginal"]
