/* cert — see cert.h. */
#include "cert.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

struct cert {
	X509 *x509;
	EVP_PKEY *key;
	char fingerprint[CERT_FINGERPRINT_LEN + 1];
};

static int cert_compute_fingerprint(struct cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	static const char hex[] = "0123456789abcdef";

	if (X509_digest(c->x509, EVP_sha256(), md, &n) != 1 || n != 32)
		return -1;
	for (unsigned int i = 0; i < n; i++) {
		c->fingerprint[2 * i] = hex[md[i] >> 4];
		c->fingerprint[2 * i + 1] = hex[md[i] & 15];
	}
	c->fingerprint[2 * n] = '\0';
	return 0;
}

static int cert_add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int rc;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return -1;
	rc = X509_add_ext(x, ext, -1) == 1 ? 0 : -1;
	X509_EXTENSION_free(ext);
	return rc;
}

struct cert *cert_new_ephemeral(const char *names)
{
	struct cert *c = calloc(1, sizeof *c);
	X509_NAME *subject = NULL;
	unsigned char serial[16];
	BIGNUM *bn = NULL;

	if (!c)
		return NULL;
	/* EC P-256: small, fast handshakes, accepted by every TLS 1.2+ client. */
	c->key = EVP_EC_gen("P-256");
	c->x509 = X509_new();
	if (!c->key || !c->x509)
		goto fail;
	if (X509_set_version(c->x509, 2) != 1)
		goto fail;
	if (RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c->x509)))
		goto fail;
	/* Valid from a minute ago (clock skew) for 7 days: longer than any run or playground
	 * session; a playground agent started by `up` pins it by fingerprint anyway. */
	if (!X509_gmtime_adj(X509_getm_notBefore(c->x509), -60) ||
	    !X509_gmtime_adj(X509_getm_notAfter(c->x509), 7L * 24 * 3600))
		goto fail;
	subject = X509_get_subject_name(c->x509);
	if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
	                               (const unsigned char *)"stagevisor ingest", -1, -1, 0) != 1)
		goto fail;
	if (X509_set_issuer_name(c->x509, subject) != 1)
		goto fail;
	if (X509_set_pubkey(c->x509, c->key) != 1)
		goto fail;
	if (cert_add_ext(c->x509, NID_subject_alt_name, names ? names : "DNS:localhost,IP:127.0.0.1") ||
	    cert_add_ext(c->x509, NID_basic_constraints, "critical,CA:FALSE") ||
	    cert_add_ext(c->x509, NID_ext_key_usage, "serverAuth"))
		goto fail;
	if (X509_sign(c->x509, c->key, EVP_sha256()) == 0)
		goto fail;
	if (cert_compute_fingerprint(c))
		goto fail;
	BN_free(bn);
	return c;
fail:
	BN_free(bn);
	cert_free(c);
	return NULL;
}

struct cert *cert_load(const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	struct cert *c = calloc(1, sizeof *c);
	FILE *f = NULL;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f = fopen(cert_path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open the certificate", cert_path);
		goto fail;
	}
	c->x509 = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!c->x509) {
		snprintf(err, errlen, "%s: not a PEM certificate", cert_path);
		goto fail;
	}
	f = fopen(key_path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open the key", key_path);
		goto fail;
	}
	c->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!c->key) {
		snprintf(err, errlen, "%s: not a PEM private key", key_path);
		goto fail;
	}
	if (X509_check_private_key(c->x509, c->key) != 1) {
		snprintf(err, errlen, "%s: the key does not match the certificate %s", key_path, cert_path);
		goto fail;
	}
	if (cert_compute_fingerprint(c)) {
		snprintf(err, errlen, "%s: cannot compute the fingerprint", cert_path);
		goto fail;
	}
	return c;
fail:
	ERR_clear_error();
	cert_free(c);
	return NULL;
}

void cert_free(struct cert *c)
{
	if (!c)
		return;
	X509_free(c->x509);
	EVP_PKEY_free(c->key);
	free(c);
}

const char *cert_fingerprint(const struct cert *c)
{
	return c->fingerprint;
}

SSL_CTX *cert_server_ctx(const struct cert *c)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return NULL;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                         SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate(ctx, c->x509) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1)
		goto fail;
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

char *cert_pem(const struct cert *c)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;

	if (!bio)
		return NULL;
	if (PEM_write_bio_X509(bio, c->x509) != 1)
		goto done;
	n = BIO_get_mem_data(bio, &data);
	out = malloc((size_t)n + 1);
	if (out) {
		memcpy(out, data, (size_t)n);
		out[n] = '\0';
	}
done:
	BIO_free(bio);
	return out;
}

int cert_save(const struct cert *c, const char *cert_path, const char *key_path)
{
	FILE *f;
	int fd, ok;

	/* The key first, created 0600 and never readable by others, not even for a moment. */
	fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(f, c->key, NULL, NULL, 0, NULL, NULL) == 1;
	if (fclose(f) != 0 || !ok)
		return -1;
	f = fopen(cert_path, "we");
	if (!f)
		return -1;
	ok = PEM_write_X509(f, c->x509) == 1;
	if (fclose(f) != 0 || !ok)
		return -1;
	return 0;
}
