"""Plotting helpers of the notebooks: labelled image panels."""

import matplotlib.pyplot as plt


def show_image(ax, img, title):
    """A grey image with values in [0, 1] on ax, titled, with pixel axes."""
    ax.imshow(img, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x [pixels]", fontsize=8)
    ax.set_ylabel("y [pixels]", fontsize=8)
    ax.tick_params(labelsize=7)


def show_digits(images, titles, suptitle):
    """A row of 8x8 digit images (N, 1, 8, 8), one title each."""
    fig, axes = plt.subplots(1, len(images), figsize=(1.25 * len(images) + 0.5, 1.9), squeeze=False)
    for ax, img, title in zip(axes[0], images, titles, strict=False):
        ax.imshow(img[0], cmap="gray_r")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("x [px]", fontsize=7)
        ax.set_ylabel("y [px]", fontsize=7)
        ax.tick_params(labelsize=6)
    fig.suptitle(suptitle)
    fig.tight_layout()
    plt.show()
