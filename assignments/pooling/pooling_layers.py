"""Pooling layers: naive loops, im2col/col2im, and an im2col-based Maxpool layer.

Implement every function between the ``TODO`` comment and ``raise NotImplementedError``.
You may import only numpy and the Python standard library.

Conventions used throughout (they are PyTorch's, and the grader checks them):

* Inputs are ``(N, C, H, W)`` float arrays. Every output and gradient has the
  dtype of the input: float32 in, float32 out.
* ``pool_param`` is a dict with keys ``pool_height``, ``pool_width``, ``stride``
  and an optional ``pad`` (default 0). The same stride and pad apply to height and
  width; the window may be rectangular.
* Output size, floor mode:
  ``H' = (H + 2*pad - pool_height) // stride + 1`` and
  ``W' = (W + 2*pad - pool_width) // stride + 1``.
  Window ``(h', w')`` covers padded rows ``h'*stride ... h'*stride + pool_height - 1``
  and padded columns ``w'*stride ... w'*stride + pool_width - 1``.
* Max pooling pads with ``-inf`` (padding never wins); average pooling pads with
  zeros and always divides by ``pool_height * pool_width`` (padded zeros count).
* Max pooling ties: the whole gradient goes to the FIRST maximum in row-major order
  within the window. NaN propagates: a window holding NaN outputs NaN and sends its
  gradient to that NaN (PyTorch picks the last NaN when a window holds several; the
  tests never put two NaNs in one window).
* Backward passes accumulate: where windows overlap, an input element receives the
  sum of the gradients of every window that uses it.
"""
import numpy as np


def max_pool_forward_naive(x, pool_param):
    """Max pooling forward pass, written with loops over the output positions.

    Inputs:
    - x: array of shape (N, C, H, W), float32 or float64.
    - pool_param: dict with 'pool_height', 'pool_width', 'stride' and optional 'pad'.

    Returns a tuple of:
    - out: array of shape (N, C, H', W') with x's dtype, where
      H' = (H + 2*pad - pool_height) // stride + 1, W' = (W + 2*pad - pool_width) // stride + 1.
      Padding is -inf; a window holding NaN outputs NaN.
    - cache: whatever max_pool_backward_naive needs, e.g. (x, pool_param).
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param.get("pad", 0)
    out_h = (H + 2 * pad - ph) // stride + 1
    out_w = (W + 2 * pad - pw) // stride + 1
    # -inf padding can never be the maximum, so it behaves as if the window were clipped.
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.max(axis=(2, 3))  # np.max propagates NaN
    cache = (x, pool_param)
    ### END SOLUTION
    return out, cache


def max_pool_backward_naive(dout, cache):
    """Max pooling backward pass, written with loops over the output positions.

    Inputs:
    - dout: upstream gradient of shape (N, C, H', W').
    - cache: the cache returned by max_pool_forward_naive.

    Returns:
    - dx: gradient with respect to x, shape (N, C, H, W), x's dtype. Each window sends
      its whole gradient to ONE element: its first maximum in row-major order (or its
      NaN). Gradients of overlapping windows add up. Padding receives nothing.
    """
    ### BEGIN SOLUTION
    x, pool_param = cache
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param.get("pad", 0)
    out_h, out_w = dout.shape[2], dout.shape[3]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    dx_pad = np.zeros_like(x_pad)
    for i in range(out_h):
        for j in range(out_w):
            rows = slice(i * stride, i * stride + ph)
            cols = slice(j * stride, j * stride + pw)
            window = x_pad[:, :, rows, cols].reshape(N, C, ph * pw)
            # argmax returns the first maximum (or the first NaN) of each window.
            first_max = np.argmax(window, axis=2)[:, :, None]
            dwindow = np.zeros_like(window)
            np.put_along_axis(dwindow, first_max, dout[:, :, i, j][:, :, None], axis=2)
            dx_pad[:, :, rows, cols] += dwindow.reshape(N, C, ph, pw)
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    ### END SOLUTION
    return dx


def avg_pool_forward_naive(x, pool_param):
    """Average pooling forward pass, written with loops over the output positions.

    Inputs:
    - x: array of shape (N, C, H, W), float32 or float64.
    - pool_param: dict with 'pool_height', 'pool_width', 'stride' and optional 'pad'.

    Returns a tuple of:
    - out: array of shape (N, C, H', W') with x's dtype (same H', W' as max pooling).
      Padding is zero and counts: every window is divided by pool_height * pool_width.
    - cache: whatever avg_pool_backward_naive needs.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param.get("pad", 0)
    out_h = (H + 2 * pad - ph) // stride + 1
    out_w = (W + 2 * pad - pw) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    for i in range(out_h):
        for j in range(out_w):
            window = x_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw]
            out[:, :, i, j] = window.mean(axis=(2, 3))
    cache = (x.shape, x.dtype, pool_param)
    ### END SOLUTION
    return out, cache


def avg_pool_backward_naive(dout, cache):
    """Average pooling backward pass, written with loops over the output positions.

    Inputs:
    - dout: upstream gradient of shape (N, C, H', W').
    - cache: the cache returned by avg_pool_forward_naive.

    Returns:
    - dx: gradient with respect to x, shape (N, C, H, W), x's dtype. Each window adds
      dout / (pool_height * pool_width) to each of its in-bounds elements; overlapping
      windows add up.
    """
    ### BEGIN SOLUTION
    (N, C, H, W), dtype, pool_param = cache
    ph, pw = pool_param["pool_height"], pool_param["pool_width"]
    stride, pad = pool_param["stride"], pool_param.get("pad", 0)
    out_h, out_w = dout.shape[2], dout.shape[3]
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=dtype)
    for i in range(out_h):
        for j in range(out_w):
            share = dout[:, :, i, j] / (ph * pw)
            dx_pad[:, :, i * stride:i * stride + ph, j * stride:j * stride + pw] += share[:, :, None, None]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    ### END SOLUTION
    return dx


def im2col_indices(x, field_height, field_width, padding=0, stride=1):
    """Unfold every field_height x field_width window of x into one column.

    Inputs:
    - x: array of shape (N, C, H, W).
    - field_height, field_width: window size. padding: zeros added on every side.
      stride: step between windows (same for height and width).

    Returns:
    - cols: array of shape (C * field_height * field_width, N * H' * W') with x's dtype,
      H' = (H + 2*padding - field_height) // stride + 1 (W' likewise with field_width).
      Row c*field_height*field_width + i*field_width + j holds offset (i, j) of channel c
      inside the window; column (h'*W' + w')*N + n holds window (h', w') of image n.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x.shape
    out_h = (H + 2 * padding - field_height) // stride + 1
    out_w = (W + 2 * padding - field_width) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    # Axes of cols: (c, i, j) make up the row, (h', w', n) make up the column.
    cols = np.empty((C, field_height, field_width, out_h, out_w, N), dtype=x.dtype)
    for i in range(field_height):
        for j in range(field_width):
            # Offset (i, j) of every window at once: a strided slice of the padded input.
            patch = x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride]
            cols[:, i, j] = patch.transpose(1, 2, 3, 0)
    cols = cols.reshape(C * field_height * field_width, out_h * out_w * N)
    ### END SOLUTION
    return cols


def col2im_indices(cols, x_shape, field_height, field_width, padding=0, stride=1):
    """Fold columns back into an image: the adjoint of im2col_indices.

    Inputs:
    - cols: array of shape (C * field_height * field_width, N * H' * W'), laid out as
      im2col_indices produces it.
    - x_shape: (N, C, H, W) of the image. Other arguments as in im2col_indices.

    Returns:
    - x: array of shape x_shape with cols' dtype. An element that several windows
      cover receives the SUM of their entries; entries that fall in the padding are
      dropped.
    """
    ### BEGIN SOLUTION
    N, C, H, W = x_shape
    out_h = (H + 2 * padding - field_height) // stride + 1
    out_w = (W + 2 * padding - field_width) // stride + 1
    cols = cols.reshape(C, field_height, field_width, out_h, out_w, N)
    x_pad = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=cols.dtype)
    for i in range(field_height):
        for j in range(field_width):
            x_pad[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += cols[:, i, j].transpose(3, 0, 1, 2)
    x = x_pad[:, :, padding:padding + H, padding:padding + W]
    ### END SOLUTION
    return x


class Maxpool:
    """Square max pooling layer built on im2col_indices / col2im_indices.

    Maxpool(size, stride=None, padding=0): a size x size window; stride defaults to
    size (windows that tile the input); padding is -inf. Same output size, tie rule
    and NaN rule as max_pool_forward_naive.

    forward(x) reshapes x (N, C, H, W) to (N*C, 1, H, W) so that every channel is an
    image of its own, unfolds it with im2col_indices and takes the max of each column.
    It stores what backward needs, including

        self.max_idx: int array of shape (N*C*H'*W',); entry k is the row (i*size + j)
        of column k that holds that window's maximum.

    Every forward call replaces the stored state, so backward(dout) always belongs
    to the latest forward. backward(dout) takes dout of shape (N, C, H', W') and returns
    dx of shape (N, C, H, W), scattering each window's gradient with col2im_indices.
    """

    def __init__(self, size, stride=None, padding=0):
        ### BEGIN SOLUTION
        self.size = size
        self.stride = size if stride is None else stride
        self.padding = padding
        self.max_idx = None
        self.x_shape = None
        ### END SOLUTION

    def forward(self, x):
        """x: (N, C, H, W) -> out: (N, C, H', W') with x's dtype."""
        ### BEGIN SOLUTION
        N, C, H, W = x.shape
        p = self.padding
        # Pad with -inf ourselves: im2col_indices pads with zeros, which could win the max.
        x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        planes = x_pad.reshape(N * C, 1, H + 2 * p, W + 2 * p)
        cols = im2col_indices(planes, self.size, self.size, padding=0, stride=self.stride)
        out_h = (H + 2 * p - self.size) // self.stride + 1
        out_w = (W + 2 * p - self.size) // self.stride + 1
        self.max_idx = np.argmax(cols, axis=0)  # first maximum (or first NaN) of each window
        self.x_shape = x.shape
        out = cols[self.max_idx, np.arange(cols.shape[1])]
        # Columns are ordered (h', w', n*C + c): back to (N, C, H', W').
        out = out.reshape(out_h, out_w, N, C).transpose(2, 3, 0, 1)
        ### END SOLUTION
        return out

    def backward(self, dout):
        """dout: (N, C, H', W') -> dx: (N, C, H, W) with dout's dtype."""
        ### BEGIN SOLUTION
        N, C, H, W = self.x_shape
        p = self.padding
        dcols = np.zeros((self.size * self.size, self.max_idx.size), dtype=dout.dtype)
        # Same column order as forward: (h', w', n*C + c).
        dcols[self.max_idx, np.arange(self.max_idx.size)] = dout.transpose(2, 3, 0, 1).ravel()
        dplanes = col2im_indices(dcols, (N * C, 1, H + 2 * p, W + 2 * p), self.size, self.size,
                                 padding=0, stride=self.stride)
        dx = dplanes.reshape(N, C, H + 2 * p, W + 2 * p)[:, :, p:p + H, p:p + W]
        ### END SOLUTION
        return dx
