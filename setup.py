"""Packaging for smbwire (import names ``smb`` and ``nmb``)."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))

with open(os.path.join(HERE, "smb", "__init__.py"), encoding="utf-8") as fh:
    VERSION = re.search(r'^__version__ = "([^"]+)"', fh.read(), re.M).group(1)

with open(os.path.join(HERE, "README.rst"), encoding="utf-8") as fh:
    LONG_DESCRIPTION = fh.read()

setup(
    name="smbwire",
    version=VERSION,
    description="Pure-Python SMB1/SMB2/SMB3 client, a drop-in replacement for pysmb",
    long_description=LONG_DESCRIPTION,
    long_description_content_type="text/x-rst",
    license="MIT",
    packages=find_packages(include=["smb", "smb.*", "nmb", "nmb.*"]),
    package_data={"smb": ["py.typed"], "nmb": ["py.typed"]},
    python_requires=">=3.9",
    install_requires=["pyasn1>=0.4", "pycryptodome>=3.10"],
    extras_require={
        "progress": ["tqdm"],
        "fsspec": ["fsspec>=2023.1"],
        "twisted": ["twisted>=22.1"],
        "fast": ["cryptography>=3.1"],
        # distributed pins its own dask release: an old distributed (no pin) under a newer
        # dask fails to import, so a recent one is asked for.
        "dask": ["fsspec>=2023.1", "dask[dataframe]", "distributed>=2024.1", "pyarrow"],
        "test": ["pytest>=7", "hypothesis>=6", "tqdm", "mypy", "pandas", "fsspec>=2023.1", "dask[dataframe]",
                 "distributed>=2024.1", "pyarrow", "twisted>=22.1", "cryptography>=3.1"],
        "docs": ["sphinx>=5"],
    },
    entry_points={
        "console_scripts": ["smbwire = smb.cli:main"],
        "fsspec.specs": ["smbwire = smb.fsspec:SMBFileSystem"],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Programming Language :: Python :: 3 :: Only",
        "License :: OSI Approved :: MIT License",
        "Operating System :: OS Independent",
        "Topic :: System :: Networking",
        "Typing :: Typed",
    ],
)
