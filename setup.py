"""tfp_fastpixel: exact, cached fast sampling for TensorFlow Probability's PixelCNN."""
from setuptools import find_packages, setup

setup(
    name="tfp_fastpixel",
    version="0.1.0",
    description="Fast exact sampling (Ramachandran et al. 2017) for tfd.PixelCNN",
    packages=find_packages(include=["tfp_fastpixel", "tfp_fastpixel.*"]),
    python_requires=">=3.10",
    install_requires=[
        # Tried together: TF 2.21, TFP 0.25, tf-keras 2.21, tfds 4.9.10.
        "tensorflow>=2.18,<2.22",
        "tensorflow-probability>=0.25,<0.26",
        "tf-keras>=2.18,<2.22",
        "tensorflow-datasets>=4.9.7,<4.10",
        # tfds 4.9.10 imports this without declaring it.
        "importlib_resources",
        "numpy",
        # Ships the offline default data set (8x8 digits).
        "scikit-learn",
    ],
    extras_require={
        # tfds.testing imports dill without declaring it.
        "test": ["pytest", "dill"],
    },
    entry_points={"console_scripts": ["tfp-fastpixel=tfp_fastpixel.__main__:main"]},
)
