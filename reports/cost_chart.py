"""The report's chart: 14 days of priced LLM cost by model, as PNG bytes (Agg backend)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def cost_chart_png(daily_by_model: pd.DataFrame, *, title: str) -> bytes:
    """Stacked bars, one per day, one colour per model."""
    figure, axes = plt.subplots(figsize=(8, 3.6), dpi=110)
    try:
        labels = [day.strftime("%m-%d") for day in daily_by_model.index]
        bottom = pd.Series(0.0, index=daily_by_model.index)
        for model in daily_by_model.columns:
            values = daily_by_model[model]
            axes.bar(labels, values, bottom=bottom, label=str(model))
            bottom = bottom + values
        if len(daily_by_model.columns):
            axes.legend(fontsize=8, loc="upper left")
        axes.set_title(title, fontsize=11)
        axes.set_ylabel("USD (priced calls)")
        axes.tick_params(axis="x", labelsize=8, rotation=45)
        axes.grid(axis="y", alpha=0.3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)
