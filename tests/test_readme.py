"""README.md documents every setting of config/defaults.py."""

import re
from pathlib import Path

from config import defaults

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readme_table():
    documented = set(re.findall(r"^\| `([A-Z0-9_]+)` \|", README.read_text(), re.MULTILINE))
    settings = {name for name in dir(defaults) if name.isupper()}
    assert settings - documented == set()
