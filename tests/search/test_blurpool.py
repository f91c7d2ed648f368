import torch
import torch.nn.functional as F

from shiftnas.search.spaces import BlurPool, triangle_kernel


def test_triangle_filter_weights():
    expected = torch.tensor([[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]) / 16
    assert torch.equal(triangle_kernel(), expected)
    pool = BlurPool(5)
    assert pool.kernel.shape == (5, 1, 3, 3)
    assert torch.allclose(pool.kernel.sum(dim=(1, 2, 3)), torch.ones(5))


def test_blurpool_halves_and_keeps_constants_inside():
    x = torch.full((1, 3, 8, 8), 2.0)
    y = BlurPool(3)(x)
    assert y.shape == (1, 3, 4, 4)
    assert torch.allclose(y[..., 1:, 1:], torch.full_like(y[..., 1:, 1:], 2.0))


def test_blurred_subsampling_is_more_shift_stable_than_plain():
    """Under a one-pixel shift, plain stride-2 sampling swaps in entirely different pixels; the
    low-pass filter first makes neighbouring samples alike, so its output changes less."""
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(16, 4, 32, 32, generator=generator)
    shifted = torch.roll(x, shifts=1, dims=3)
    pool = BlurPool(4)

    def plain(t):
        return t[..., ::2, ::2]

    def change(fn):
        return (fn(x) - fn(shifted)).abs().mean().item()

    plain_change, blur_change = change(plain), change(pool)
    assert blur_change < 0.6 * plain_change
    # and a stride-2 max-pool (what anti-aliasing fixes) also changes more than the blur
    assert blur_change < change(lambda t: F.max_pool2d(t, 2))
