"""Builds briefs' one compiled module, ``builder.related._features`` (Cython), at install time.

Everything else is in pyproject.toml. The module is optional: where it cannot be compiled (no
Cython, no C compiler) briefs runs the same code in Python (``builder/related/text.py``), with
the same output, only slower.
"""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # pragma: no cover - pyproject.toml's build requirements include Cython
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension("builder.related._features", ["builder/related/_features.pyx"])],
        language_level=3, quiet=True)
    for ext in ext_modules:
        ext.optional = True  # (set afterwards: cythonize does not carry it over)

setup(ext_modules=ext_modules)
