"""The data sets of the notebooks, and an independent check for non-overlapping pooling."""

import numpy as np


def grace_hopper():
    """matplotlib's sample photograph of Grace Hopper as luminance (ITU-R BT.601) in [0, 1], shape (H, W)."""
    import matplotlib.pyplot as plt
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as f:
        rgb = plt.imread(f)
    return (rgb[..., :3] @ np.array([0.299, 0.587, 0.114])) / 255.0


def digits_split(test_size=0.25, seed=0):
    """scikit-learn's 8x8 digits as (X_train, X_test, y_train, y_test, mean).

    Images have shape (N, 1, 8, 8), scaled to [0, 1] and then centred by the training mean
    (returned, to add back for display); the split is stratified by label.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = digits.images[:, None].astype(np.float64) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=test_size, stratify=digits.target, random_state=seed
    )
    mean = X_train.mean()
    return X_train - mean, X_test - mean, y_train, y_test, mean


def block_pool(x, k, reduce):
    """reduce (np.max or np.mean) over non-overlapping k x k blocks of x (N, C, H, W), by reshaping.

    Rows and columns that do not fill a whole block are dropped, as pooling with stride k
    does. A check for pooling with window k and stride k that shares no code with it.
    """
    N, C, H, W = x.shape
    blocks = x[:, :, : H // k * k, : W // k * k].reshape(N, C, H // k, k, W // k, k)
    return reduce(blocks, axis=(3, 5))
