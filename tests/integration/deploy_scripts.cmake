# deploy/scripts (db-export, db-reset, assets-sync) against moto's S3 server through the AWS CLI
# and a private MariaDB server on 127.0.0.1 (test_deploy_scripts.py starts and stops both);
# shellcheck checks the scripts. Without moto the test prints why and exits 77 (skipped);
# without a MariaDB server only the database cases skip, with the reason.
# The plain build only: the scripts run no code of ours, so a sanitizer build has nothing to add.
if(NOT SV_SANITIZE)
  sv_add_py_test(deploy_scripts test_deploy_scripts.py)
  set_tests_properties(integration.deploy_scripts PROPERTIES SKIP_RETURN_CODE 77)
endif()
