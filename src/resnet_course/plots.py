"""Figures for the notebook: samples, learning curves, the degradation experiment,
confusion matrices and predictions. Each function draws one figure and
returns it, so tests can inspect it and notebooks simply display it."""

from __future__ import annotations

import numpy as np


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def fingers(count: int) -> str:
    """A class label in words: "1 finger", "3 fingers"."""
    return f"{int(count)} finger{'' if int(count) == 1 else 's'}"


def show_samples(images: np.ndarray, labels: np.ndarray, per_class: int = 6, seed: int = 0):
    """A grid of ``per_class`` random images for each class, one row per class."""
    plt = _pyplot()
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(len(classes), per_class, figsize=(1.3 * per_class, 1.4 * len(classes)))
    for row, label in enumerate(classes):
        picks = rng.choice(np.flatnonzero(labels == label), per_class, replace=False)
        for col, index in enumerate(picks):
            ax = axes[row, col]
            ax.imshow(images[index])
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(fingers(label), fontsize=9)
    fig.suptitle("SIGNS: random training images per class")
    fig.tight_layout()
    return fig


def _integer_epochs(ax) -> None:
    """Epoch ticks at whole numbers only (matplotlib would also mark 1.5, 2.5, ...)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_history(history: dict, title: str = "Learning curves"):
    """Loss and accuracy per epoch, with validation curves when present; None when no epoch was run."""
    if not history.get("loss"):
        return None
    plt = _pyplot()
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    for ax, key in ((ax_loss, "loss"), (ax_acc, "accuracy")):
        ax.plot(epochs, history[key], "o-", label=f"training {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], "s--", label=f"test {key}")
        ax.set_xlabel("epoch")
        _integer_epochs(ax)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    ax_acc.set_ylim(0, 1.02)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_degradation(runs: dict):
    """The degradation experiment: training loss per epoch, and gradient norm per layer at initialisation.

    Args:
        runs: ``{"shallow plain": ..., "plain": ..., "residual": ...}`` (each a DegradationRun) from
            :func:`resnet_course.degradation.run_degradation_experiment`; None is drawn for ``{}``.
    """
    from .degradation import gradient_runs

    if not runs:
        return None
    plt = _pyplot()
    styles = {"shallow plain": ("tab:green", "s--"), "plain": ("tab:blue", "o-"), "residual": ("tab:orange", "o-")}
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.6))
    for run in runs.values():
        color, style = styles.get(run.name, (None, "o-"))
        ax_loss.plot(np.arange(1, len(run.losses) + 1), run.losses, style, color=color, label=run.label)
    for run in gradient_runs(runs):
        color, style = styles.get(run.name, (None, "o-"))
        norms = np.asarray(run.gradient_norms)
        ax_grad.semilogy(np.arange(1, len(norms) + 1), norms, style, color=color, markersize=3, label=run.label)
    ax_loss.set_xlabel("epoch")
    _integer_epochs(ax_loss)
    ax_loss.set_ylabel("training loss (cross-entropy)")
    ax_loss.set_title("Training loss: same data, same batches")
    ax_grad.set_xlabel("body layer (1 = nearest the input)")
    _integer_epochs(ax_grad)
    ax_grad.set_ylabel("gradient norm of the kernel")
    ax_grad.set_title("Gradient reaching each layer, before training")
    for ax in (ax_loss, ax_grad):
        ax.grid(alpha=0.3, which="both")
        if ax.lines:
            ax.legend()
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 6) -> np.ndarray:
    """Counts of (true class, predicted class) pairs."""
    matrix = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def plot_confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 6):
    """The confusion matrix as a heat map with the counts written in."""
    plt = _pyplot()
    matrix = confusion_matrix(y_true, y_pred, num_classes)
    fig, ax = plt.subplots(figsize=(4.6, 4))
    image = ax.imshow(matrix, cmap="Blues")
    for (row, col), count in np.ndenumerate(matrix):
        ax.text(col, row, str(count), ha="center", va="center", color="white" if count > matrix.max() / 2 else "black")
    ax.set_xlabel("predicted fingers")
    ax.set_ylabel("true fingers")
    ax.set_xticks(range(num_classes))
    ax.set_yticks(range(num_classes))
    accuracy = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(f"Test set: accuracy {accuracy:.3f}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def show_misclassified(images: np.ndarray, y_true: np.ndarray, probabilities: np.ndarray, limit: int = 12):
    """The misclassified images (at most ``limit``) with true and predicted class; None when there are none.

    The title says how many are wrong in all and how many are shown.
    """
    plt = _pyplot()
    y_pred = probabilities.argmax(axis=1)
    all_wrong = np.flatnonzero(y_pred != y_true)
    wrong = all_wrong[:limit]
    if wrong.size == 0:
        print("No test image is misclassified.")
        return None
    cols = min(6, wrong.size)
    rows = int(np.ceil(wrong.size / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(2.0 * cols, 2.5 * rows + 0.5), squeeze=False, layout="constrained")
    for ax in axes.flat:
        ax.axis("off")
    for ax, index in zip(axes.flat, wrong):
        ax.imshow(images[index])
        predicted = y_pred[index]
        confidence = probabilities[index, predicted]
        ax.set_title(f"true {y_true[index]}, predicted {predicted}\np = {confidence:.2f}", fontsize=8)
    shown = "all shown" if wrong.size == all_wrong.size else f"the first {wrong.size} shown"
    fig.suptitle(f"{all_wrong.size} of {len(y_true)} test images misclassified ({shown})")
    return fig


def show_prediction(image: np.ndarray, probabilities: np.ndarray):
    """An image beside a bar chart of the model's class probabilities."""
    plt = _pyplot()
    fig, (ax_img, ax_bar) = plt.subplots(1, 2, figsize=(7, 3), gridspec_kw={"width_ratios": [1, 1.4]})
    ax_img.imshow(image)
    ax_img.axis("off")
    ax_img.set_title("input (64x64, as the model sees it)", fontsize=9)
    bars = ax_bar.bar(range(len(probabilities)), probabilities, color="tab:gray")
    bars[int(np.argmax(probabilities))].set_color("tab:blue")
    ax_bar.set_ylim(0, 1)
    ax_bar.set_xlabel("fingers")
    ax_bar.set_ylabel("probability")
    ax_bar.set_title(f"prediction: {fingers(np.argmax(probabilities))}", fontsize=10)
    fig.tight_layout()
    return fig
