"""Bugs students really write, as textual edits of the pooling assignment's solution.

Each Mutant replaces ``old`` (which must occur exactly once in
assignments/pooling/pooling_layers.py) by ``new``; ``targets`` are the graded tests
(``public/FILE::TEST`` or ``hidden/FILE::TEST`` under assignments/pooling/tests) that
exist to catch that bug and must score 0 on the mutated file. tests/test_mutants.py
applies and grades them, and checks that the grader's diagnosis
(cs231n_pool.grading.diagnosis) names each mutant's own likely cause on one of them.
"""
from typing import NamedTuple


class Mutant(NamedTuple):
    name: str
    why: str
    old: str
    new: str
    targets: tuple


def public(file, test):
    return f"public/{file}::{test}"


def hidden(file, test):
    return f"hidden/{file}::{test}"


MAX_P, MAX_H = "test_max_pool.py", "test_hidden_max_pool.py"
AVG_P, AVG_H = "test_avg_pool.py", "test_hidden_avg_pool.py"
COL_P, COL_H = "test_im2col.py", "test_hidden_im2col.py"
LAY_P, LAY_H = "test_maxpool_layer.py", "test_hidden_maxpool_layer.py"
DT_P, DT_H = "test_dtype.py", "test_hidden_dtype.py"


def both(public_file, hidden_file, test):
    return (public(public_file, test), hidden(hidden_file, test))


MUTANTS = [
    Mutant(
        "output_size_missing_plus_one",
        "H' = (H + 2p - k) // s, forgetting the +1 (drops the last window)",
        "    out_h = (H + 2 * pad - ph) // stride + 1\n"
        "    out_w = (W + 2 * pad - pw) // stride + 1\n"
        "    # -inf padding",
        "    out_h = (H + 2 * pad - ph) // stride\n"
        "    out_w = (W + 2 * pad - pw) // stride\n"
        "    # -inf padding",
        both(MAX_P, MAX_H, "test_max_forward_output_size"),
    ),
    Mutant(
        "output_size_rounds_up",
        "H' computed with a ceiling: a partial window at the edge becomes an extra output",
        "    out_h = (H + 2 * pad - ph) // stride + 1\n"
        "    out_w = (W + 2 * pad - pw) // stride + 1\n"
        "    # -inf padding",
        "    out_h = (H + 2 * pad - ph + stride - 1) // stride + 1\n"
        "    out_w = (W + 2 * pad - pw + stride - 1) // stride + 1\n"
        "    # -inf padding",
        both(MAX_P, MAX_H, "test_max_forward_output_size"),
    ),
    Mutant(
        "rectangular_window_swapped",
        "window rows sliced with pool_width and columns with pool_height",
        "            window = x_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]\n"
        "            out[:, :, i, j] = window.max(axis=(2, 3))",
        "            window = x_pad[:, :, i * stride:i * stride + pw, j * stride:j * stride + ph]\n"
        "            out[:, :, i, j] = window.max(axis=(2, 3))",
        both(MAX_P, MAX_H, "test_max_forward_rectangular_window"),
    ),
    Mutant(
        "rectangular_output_size_swapped",
        "H' computed from pool_width and W' from pool_height",
        "    out_h = (H + 2 * pad - ph) // stride + 1\n"
        "    out_w = (W + 2 * pad - pw) // stride + 1\n"
        "    # -inf padding",
        "    out_h = (H + 2 * pad - pw) // stride + 1\n"
        "    out_w = (W + 2 * pad - ph) // stride + 1\n"
        "    # -inf padding",
        both(MAX_P, MAX_H, "test_max_forward_rectangular_window"),
    ),
    Mutant(
        "max_pool_pads_with_zeros",
        "np.pad's default zero padding: an all-negative border window returns 0",
        "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)\n"
        "    out = np.empty",
        "    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))\n"
        "    out = np.empty",
        both(MAX_P, MAX_H, "test_max_forward_padding_is_minus_inf"),
    ),
    Mutant(
        "max_backward_assigns_instead_of_adding",
        "`=` instead of `+=`: a later window overwrites the gradient of an earlier overlapping one",
        "            dx_pad[:, :, rows, cols] += dwindow.reshape(N, C, ph, pw)",
        "            dx_pad[:, :, rows, cols] = dwindow.reshape(N, C, ph, pw)",
        both(MAX_P, MAX_H, "test_max_backward_overlapping_windows"),
    ),
    Mutant(
        "max_backward_forgets_pad_offset",
        "dx cropped from the top-left corner of the padded gradient instead of from `pad`",
        "            dx_pad[:, :, rows, cols] += dwindow.reshape(N, C, ph, pw)\n"
        "    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]",
        "            dx_pad[:, :, rows, cols] += dwindow.reshape(N, C, ph, pw)\n"
        "    dx = dx_pad[:, :, :H, :W]",
        both(MAX_P, MAX_H, "test_max_backward_overlapping_windows"),
    ),
    Mutant(
        "max_backward_to_every_tied_max",
        "mask `window == window.max()`: every tied maximum gets the full gradient",
        "            first_max = np.argmax(window, axis=2)[:, :, None]\n"
        "            dwindow = np.zeros_like(window)\n"
        "            np.put_along_axis(dwindow, first_max, dout[:, :, i, j][:, :, None], axis=2)",
        "            dwindow = (window == window.max(axis=2, keepdims=True)) * dout[:, :, i, j][:, :, None]",
        both(MAX_P, MAX_H, "test_max_backward_ties_go_to_first_max"),
    ),
    Mutant(
        "max_backward_splits_ties",
        "the gradient shared equally between tied maxima",
        "            first_max = np.argmax(window, axis=2)[:, :, None]\n"
        "            dwindow = np.zeros_like(window)\n"
        "            np.put_along_axis(dwindow, first_max, dout[:, :, i, j][:, :, None], axis=2)",
        "            mask = window == window.max(axis=2, keepdims=True)\n"
        "            dwindow = mask / mask.sum(axis=2, keepdims=True) * dout[:, :, i, j][:, :, None]",
        both(MAX_P, MAX_H, "test_max_backward_ties_go_to_first_max"),
    ),
    Mutant(
        "max_backward_last_tied_max",
        "the last maximum of the window (scan with >=) gets the gradient",
        "            first_max = np.argmax(window, axis=2)[:, :, None]",
        "            first_max = (ph * pw - 1 - np.argmax(window[:, :, ::-1], axis=2))[:, :, None]",
        both(MAX_P, MAX_H, "test_max_backward_ties_go_to_first_max"),
    ),
    Mutant(
        "max_forward_ignores_nan",
        "np.nanmax skips NaN instead of propagating it",
        "            out[:, :, i, j] = window.max(axis=(2, 3))",
        "            out[:, :, i, j] = np.nanmax(window, axis=(2, 3))",
        both(MAX_P, MAX_H, "test_max_nan_propagates"),
    ),
    Mutant(
        "max_backward_ignores_nan",
        "np.nanargmax sends the gradient past the NaN to the largest number",
        "            first_max = np.argmax(window, axis=2)[:, :, None]",
        "            first_max = np.nanargmax(window, axis=2)[:, :, None]",
        both(MAX_P, MAX_H, "test_max_nan_propagates"),
    ),
    Mutant(
        "avg_forward_excludes_padding",
        "average over in-bounds cells only (count_include_pad=False) instead of the whole window",
        "            out[:, :, i, j] = window.mean(axis=(2, 3))",
        "            inside_h = min(i * stride + ph, H + pad) - max(i * stride, pad)\n"
        "            inside_w = min(j * stride + pw, W + pad) - max(j * stride, pad)\n"
        "            out[:, :, i, j] = window.sum(axis=(2, 3)) / (inside_h * inside_w)",
        both(AVG_P, AVG_H, "test_avg_forward_padding_counts_zeros"),
    ),
    Mutant(
        "avg_backward_divides_by_padded_area",
        "avg backward divided by the padded input area instead of the window area",
        "            share = dout[:, :, i, j] / (ph * pw)",
        "            share = dout[:, :, i, j] / ((H + 2 * pad) * (W + 2 * pad))",
        both(AVG_P, AVG_H, "test_avg_backward"),
    ),
    Mutant(
        "avg_backward_divides_by_window_count",
        "avg backward divided by the number of windows",
        "            share = dout[:, :, i, j] / (ph * pw)",
        "            share = dout[:, :, i, j] / (out_h * out_w)",
        both(AVG_P, AVG_H, "test_avg_backward"),
    ),
    Mutant(
        "avg_backward_square_divisor",
        "avg backward divided by pool_height**2 (square-window habit)",
        "            share = dout[:, :, i, j] / (ph * pw)",
        "            share = dout[:, :, i, j] / (ph * ph)",
        both(AVG_P, AVG_H, "test_avg_backward"),
    ),
    Mutant(
        "im2col_square_field_only",
        "im2col loops j over field_height: rows indexed as if the window were square",
        "        for j in range(field_width):\n"
        "            # Offset (i, j)",
        "        for j in range(field_height):\n"
        "            # Offset (i, j)",
        both(COL_P, COL_H, "test_im2col_rectangular_field"),
    ),
    Mutant(
        "im2col_image_major_columns",
        "columns ordered (n, h', w') instead of CS231n's (h', w', n)",
        "    cols = np.empty((C, field_height, field_width, out_h, out_w, N), dtype=x.dtype)\n"
        "    for i in range(field_height):\n"
        "        for j in range(field_width):\n"
        "            # Offset (i, j) of every window at once: a strided slice of the padded input.\n"
        "            patch = x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]\n"
        "            cols[:, i, j] = patch.transpose(1, 2, 3, 0)",
        "    cols = np.empty((C, field_height, field_width, N, out_h, out_w), dtype=x.dtype)\n"
        "    for i in range(field_height):\n"
        "        for j in range(field_width):\n"
        "            # Offset (i, j) of every window at once: a strided slice of the padded input.\n"
        "            patch = x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]\n"
        "            cols[:, i, j] = patch.transpose(1, 0, 2, 3)",
        (public(COL_P, "test_im2col_layout"), hidden(COL_H, "test_im2col_square_field")),
    ),
    Mutant(
        "im2col_pads_nothing",
        "im2col forgets to pad, so windows near the top-left read the wrong cells",
        "    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))\n"
        "    # Axes of cols",
        "    x_pad = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))\n"
        "    # Axes of cols",
        (public(COL_P, "test_im2col_layout"), hidden(COL_H, "test_im2col_square_field")),
    ),
    Mutant(
        "col2im_keeps_padding_rows",
        "col2im crops the padded image from the top-left corner instead of from `padding`",
        "    x = x_pad[:, :, padding:padding + H, padding:padding + W]",
        "    x = x_pad[:, :, :H, :W]",
        both(COL_P, COL_H, "test_col2im_sums_overlaps"),
    ),
    Mutant(
        "col2im_overwrites_overlaps",
        "col2im assigns instead of summing where windows overlap",
        "            x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += cols[:, i, j]",
        "            x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] = cols[:, i, j]",
        both(COL_P, COL_H, "test_col2im_sums_overlaps"),
    ),
    Mutant(
        "maxpool_stride_defaults_to_1",
        "Maxpool(size) slides its window by 1 instead of tiling the input",
        "        self.stride = size if stride is None else stride",
        "        self.stride = 1 if stride is None else stride",
        both(LAY_P, LAY_H, "test_maxpool_default_stride_is_size"),
    ),
    Mutant(
        "maxpool_stale_indices",
        "Maxpool keeps the indices and shape of its first forward call",
        "        self.max_idx = np.argmax(cols, axis=0)  # first maximum (or first NaN) of each window\n"
        "        self.x_shape = x.shape\n"
        "        out = cols[self.max_idx, np.arange(cols.shape[1])]",
        "        max_idx = np.argmax(cols, axis=0)\n"
        "        if self.max_idx is None:\n"
        "            self.max_idx, self.x_shape = max_idx, x.shape\n"
        "        out = cols[max_idx, np.arange(cols.shape[1])]",
        both(LAY_P, LAY_H, "test_maxpool_second_forward_replaces_state"),
    ),
    Mutant(
        "maxpool_zero_padding_via_im2col",
        "Maxpool lets im2col pad with zeros, so padding can win the max",
        "        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)\n"
        "        planes",
        "        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))\n"
        "        planes",
        both(LAY_P, LAY_H, "test_maxpool_forward_backward"),
    ),
    Mutant(
        "maxpool_wrong_output_reshape",
        "columns reshaped straight to (N, C, H', W') although they are ordered (h', w', n*C + c)",
        "        out = out.reshape(out_h, out_w, N, C).transpose(2, 3, 0, 1)",
        "        out = out.reshape(N, C, out_h, out_w)",
        both(LAY_P, LAY_H, "test_maxpool_forward_backward"),
    ),
    Mutant(
        "max_forward_upcasts_float32",
        "np.empty without dtype: float32 input gives a float64 output",
        "    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)\n"
        "    for i in range(out_h):\n"
        "        for j in range(out_w):\n"
        "            window = x_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]\n"
        "            out[:, :, i, j] = window.max",
        "    out = np.empty((N, C, out_h, out_w))\n"
        "    for i in range(out_h):\n"
        "        for j in range(out_w):\n"
        "            window = x_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]\n"
        "            out[:, :, i, j] = window.max",
        both(DT_P, DT_H, "test_float32_stays_float32"),
    ),
    Mutant(
        "avg_backward_upcasts_float32",
        "np.zeros without dtype in avg backward",
        "    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)",
        "    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))",
        both(DT_P, DT_H, "test_float32_stays_float32"),
    ),
    Mutant(
        "im2col_upcasts_float32",
        "im2col allocates float64 columns",
        "    cols = np.empty((C, field_height, field_width, out_h, out_w, N), dtype=x.dtype)",
        "    cols = np.empty((C, field_height, field_width, out_h, out_w, N))",
        both(DT_P, DT_H, "test_float32_stays_float32"),
    ),
    Mutant(
        "max_forward_returns_no_cache",
        "`return out` instead of `return out, cache`: every caller that unpacks the pair fails",
        "    cache = (x, pool_param)\n"
        "    ### END SOLUTION\n"
        "    return out, cache\n"
        "\n"
        "\n"
        "def max_pool_backward_naive",
        "    cache = (x, pool_param)\n"
        "    ### END SOLUTION\n"
        "    return out\n"
        "\n"
        "\n"
        "def max_pool_backward_naive",
        both(MAX_P, MAX_H, "test_max_forward_output_size"),
    ),
]
