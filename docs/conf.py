"""Sphinx configuration: numpydoc docstrings, pydata theme.

``SPECTRAL_SHEAF_DOCS_OFFLINE=1`` leaves out the links to NumPy's and SciPy's docs
(intersphinx fetches their inventories over the network), as CI builds the docs.
"""

import os

import spectral_sheaf

project = "spectral_sheaf"
author = "spectral_sheaf developers"
version = release = spectral_sheaf.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
]
autosummary_generate = True
numpydoc_show_class_members = False
html_theme = "pydata_sphinx_theme"
intersphinx_mapping = {
    "numpy": ("https://numpy.org/doc/stable/", None),
    "scipy": ("https://docs.scipy.org/doc/scipy/", None),
}
exclude_patterns = ["_build"]
if os.environ.get("SPECTRAL_SHEAF_DOCS_OFFLINE"):
    extensions.remove("sphinx.ext.intersphinx")
