"""tfp_fastpixel: a drop-in `tfd.PixelCNN` with an exact, cached fast sampler."""
from tfp_fastpixel.distribution import FastPixelCNN, from_pixelcnn

__all__ = ["FastPixelCNN", "from_pixelcnn"]
__version__ = "0.1.0"
