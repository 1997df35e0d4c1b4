# Sphinx configuration of the release notes (tox -e releasenotes).

project = 'powerkvm-nova release notes'
copyright = 'powerkvm-nova contributors'
extensions = ['reno.sphinxext']
root_doc = 'index'
exclude_patterns = ['build']
html_theme = 'alabaster'
