# The example site (examples/drupal-like-site) through the real coordinator and agent:
# PHPUnit unit and browser tests (Apache + mod_php, chromium + chromedriver), the analysis
# tools, the red switch (tests/integration/test_site.py).
sv_add_py_test(site test_site.py)
set_property(TEST integration.site APPEND PROPERTY LABELS demo)
