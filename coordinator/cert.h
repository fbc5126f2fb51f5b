/*
 * cert — the ingest server's TLS identity: a certificate, its key and its fingerprint.
 *
 * cert_new_ephemeral() mints a self-signed EC P-256 certificate in memory for one run
 * (nothing is written to disk); cert_load() reads a configured PEM certificate and key.
 * cert_fingerprint() is the SHA-256 of the certificate's DER encoding as 64 lowercase hex
 * digits without separators: the value agents get in STAGEVISOR_PIN.
 * cert_server_ctx() builds a server SSL_CTX that speaks TLS 1.2 or later only.
 * It does not listen, accept or verify peers.
 *
 * Ownership: a struct cert owns its X509 and key; the SSL_CTX returned by cert_server_ctx()
 * belongs to the caller (SSL_CTX_free) and holds its own references.
 */
#ifndef SV_COORD_CERT_H
#define SV_COORD_CERT_H

#include <openssl/ssl.h>

#define CERT_FINGERPRINT_LEN 64

struct cert;

/* names: DNS and IP subjectAltNames (comma separated, "DNS:localhost,IP:127.0.0.1"); NULL for that default. */
struct cert *cert_new_ephemeral(const char *names);
struct cert *cert_load(const char *cert_path, const char *key_path, char *err, size_t errlen);
void cert_free(struct cert *c);

const char *cert_fingerprint(const struct cert *c);
SSL_CTX *cert_server_ctx(const struct cert *c);
/* Writes the certificate and its key (mode 0600) as PEM, so that a later command can serve
 * the same identity: the Fargate backend's re-attach to a running task whose agent pins it.
 * 0 or -1 (errno). */
int cert_save(const struct cert *c, const char *cert_path, const char *key_path);
/* The certificate as PEM text (for tests and for agents that want a CA file); caller frees. */
char *cert_pem(const struct cert *c);

#endif
