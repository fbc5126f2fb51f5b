# deploy/Jenkinsfile's declarative structure, read by a Groovy-declarative parser
# (groovy_decl.py), and its version script run against a real git repository.
sv_add_py_test(jenkinsfile test_jenkinsfile.py)
