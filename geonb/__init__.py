"""geonb: learn and do semantic segmentation of satellite imagery in Jupyter notebooks.

``import geonb`` is light: it imports neither Keras nor a deep-learning backend. It sets the
default Keras backend (``KERAS_BACKEND``) when the user has chosen none.
"""

from geonb.runtime import set_default_backend

__version__ = "0.1.0"

set_default_backend()

__all__ = ["__version__"]
