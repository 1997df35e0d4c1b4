# Sphinx configuration of the powerkvm-nova docs (tox -e docs).

project = 'powerkvm-nova'
copyright = 'powerkvm-nova contributors'
extensions = ['myst_parser', 'oslo_config.sphinxext']
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['build']
myst_heading_anchors = 3
html_theme = 'alabaster'
