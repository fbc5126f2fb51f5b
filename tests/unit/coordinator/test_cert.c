/* Unit tests of coordinator/cert.c: the ephemeral identity and its fingerprint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"

static void ephemeral_fingerprint_is_sha256_of_der(void **state)
{
	struct cert *c = cert_new_ephemeral(NULL);
	char *pem, hex[65];
	BIO *bio;
	X509 *x;
	unsigned char md[32];
	unsigned int n = 0;
	EVP_PKEY *key;
	(void)state;
	assert_non_null(c);
	assert_int_equal(strlen(cert_fingerprint(c)), CERT_FINGERPRINT_LEN);
	pem = cert_pem(c);
	assert_non_null(pem);
	bio = BIO_new_mem_buf(pem, -1);
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	assert_non_null(x);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &n), 1);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	assert_string_equal(hex, cert_fingerprint(c));
	key = X509_get0_pubkey(x);
	assert_int_equal(EVP_PKEY_get_base_id(key), EVP_PKEY_EC);
	assert_int_equal(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	X509_free(x);
	BIO_free(bio);
	free(pem);
	cert_free(c);
}

static void each_run_gets_a_new_one(void **state)
{
	struct cert *a = cert_new_ephemeral(NULL), *b = cert_new_ephemeral(NULL);
	(void)state;
	assert_string_not_equal(cert_fingerprint(a), cert_fingerprint(b));
	cert_free(a);
	cert_free(b);
	cert_free(NULL);
}

static void server_ctx_is_tls12_or_later(void **state)
{
	struct cert *c = cert_new_ephemeral(NULL);
	SSL_CTX *ctx = cert_server_ctx(c);
	(void)state;
	assert_non_null(ctx);
	assert_int_equal(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	SSL_CTX_free(ctx);
	cert_free(c);
}

static void load_reports_missing_files(void **state)
{
	char err[256];
	(void)state;
	assert_null(cert_load("/nonexistent/cert.pem", "/nonexistent/key.pem", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/cert.pem"));
}

/* A saved identity loads back with the same fingerprint, and its key is not readable by others. */
static void save_and_load_keep_the_identity(void **state)
{
	char dir[] = "/tmp/stagevisor-cert-XXXXXX", crt[256], key[256], err[256];
	struct cert *a = cert_new_ephemeral(NULL), *b;
	struct stat st;

	(void)state;
	assert_non_null(a);
	assert_non_null(mkdtemp(dir));
	snprintf(crt, sizeof crt, "%s/tls.crt", dir);
	snprintf(key, sizeof key, "%s/tls.key", dir);
	assert_int_equal(cert_save(a, crt, key), 0);
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0077, 0);
	b = cert_load(crt, key, err, sizeof err);
	assert_non_null(b);
	assert_string_equal(cert_fingerprint(a), cert_fingerprint(b));
	cert_free(a);
	cert_free(b);
	unlink(crt);
	unlink(key);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ephemeral_fingerprint_is_sha256_of_der),
		cmocka_unit_test(each_run_gets_a_new_one),
		cmocka_unit_test(server_ctx_is_tls12_or_later),
		cmocka_unit_test(load_reports_missing_files),
		cmocka_unit_test(save_and_load_keep_the_identity),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
