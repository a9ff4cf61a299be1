// OpenSSL (Debian libssl3 / libssl-dev) for Swift.
//
// Loaded when first used, not linked: libssl and libcrypto are about 1.7 MB
// resident in a gateway whose networks are plain IRC and whose agents never
// set a PIN (issue 12, idle memory; scripts/bench-rss). Each function below
// has OpenSSL's name and signature and calls the library's own through a
// pointer found with dlopen/dlsym on its first call, as CPostgres does for
// libpq. When libssl.so.3 cannot be loaded, the functions that start work
// (SSL_CTX_new, RAND_bytes, PKCS5_PBKDF2_HMAC, ...) fail the way OpenSSL
// reports failure (NULL or 0) and shim_ssl_load_error() says why; the others
// are only reached with an object those returned, so never then.
//
// Macros that Swift cannot import get `static inline` wrappers, named after
// the macro with a `shim_` prefix.
#ifndef SWITCHBOARD_COPENSSL_SHIM_H
#define SWITCHBOARD_COPENSSL_SHIM_H

#include "../CLazyLibrary/lazy_library.h"
#include <stddef.h>
#include <stdint.h>

// OpenSSL's own declarations under other names, for the types and signatures.
#define SSL_CTX_new shim_ssl_declared_SSL_CTX_new
#define TLS_client_method shim_ssl_declared_TLS_client_method
#define SSL_CTX_free shim_ssl_declared_SSL_CTX_free
#define SSL_CTX_ctrl shim_ssl_declared_SSL_CTX_ctrl
#define SSL_CTX_set_options shim_ssl_declared_SSL_CTX_set_options
#define SSL_CTX_set_verify shim_ssl_declared_SSL_CTX_set_verify
#define SSL_CTX_set_default_verify_paths shim_ssl_declared_SSL_CTX_set_default_verify_paths
#define SSL_CTX_load_verify_locations shim_ssl_declared_SSL_CTX_load_verify_locations
#define SSL_CTX_use_certificate_chain_file shim_ssl_declared_SSL_CTX_use_certificate_chain_file
#define SSL_CTX_use_PrivateKey_file shim_ssl_declared_SSL_CTX_use_PrivateKey_file
#define SSL_CTX_check_private_key shim_ssl_declared_SSL_CTX_check_private_key
#define SSL_new shim_ssl_declared_SSL_new
#define SSL_free shim_ssl_declared_SSL_free
#define SSL_ctrl shim_ssl_declared_SSL_ctrl
#define SSL_set1_host shim_ssl_declared_SSL_set1_host
#define SSL_get0_param shim_ssl_declared_SSL_get0_param
#define SSL_set_bio shim_ssl_declared_SSL_set_bio
#define SSL_set_connect_state shim_ssl_declared_SSL_set_connect_state
#define SSL_connect shim_ssl_declared_SSL_connect
#define SSL_read shim_ssl_declared_SSL_read
#define SSL_write shim_ssl_declared_SSL_write
#define SSL_get_error shim_ssl_declared_SSL_get_error
#define SSL_shutdown shim_ssl_declared_SSL_shutdown
#define SSL_is_init_finished shim_ssl_declared_SSL_is_init_finished
#define SSL_get_version shim_ssl_declared_SSL_get_version
#define SSL_get_current_cipher shim_ssl_declared_SSL_get_current_cipher
#define SSL_CIPHER_get_name shim_ssl_declared_SSL_CIPHER_get_name
#define SSL_get1_peer_certificate shim_ssl_declared_SSL_get1_peer_certificate
#define SSL_get_verify_result shim_ssl_declared_SSL_get_verify_result
#define ERR_clear_error shim_ssl_declared_ERR_clear_error
#define ERR_get_error shim_ssl_declared_ERR_get_error
#define ERR_error_string_n shim_ssl_declared_ERR_error_string_n
#define X509_verify_cert_error_string shim_ssl_declared_X509_verify_cert_error_string
#define X509_get_subject_name shim_ssl_declared_X509_get_subject_name
#define X509_NAME_oneline shim_ssl_declared_X509_NAME_oneline
#define X509_free shim_ssl_declared_X509_free
#define X509_VERIFY_PARAM_set1_ip_asc shim_ssl_declared_X509_VERIFY_PARAM_set1_ip_asc
#define CRYPTO_free shim_ssl_declared_CRYPTO_free
#define BIO_new shim_ssl_declared_BIO_new
#define BIO_meth_new shim_ssl_declared_BIO_meth_new
#define BIO_meth_set_write shim_ssl_declared_BIO_meth_set_write
#define BIO_meth_set_read shim_ssl_declared_BIO_meth_set_read
#define BIO_meth_set_ctrl shim_ssl_declared_BIO_meth_set_ctrl
#define BIO_meth_set_destroy shim_ssl_declared_BIO_meth_set_destroy
#define BIO_get_new_index shim_ssl_declared_BIO_get_new_index
#define BIO_set_flags shim_ssl_declared_BIO_set_flags
#define BIO_clear_flags shim_ssl_declared_BIO_clear_flags
#define BIO_set_data shim_ssl_declared_BIO_set_data
#define BIO_get_data shim_ssl_declared_BIO_get_data
#define BIO_set_init shim_ssl_declared_BIO_set_init
#define PKCS5_PBKDF2_HMAC shim_ssl_declared_PKCS5_PBKDF2_HMAC
#define EVP_sha256 shim_ssl_declared_EVP_sha256
#define RAND_bytes shim_ssl_declared_RAND_bytes
#define CRYPTO_memcmp shim_ssl_declared_CRYPTO_memcmp
#define OpenSSL_version shim_ssl_declared_OpenSSL_version
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#undef SSL_CTX_new
#undef TLS_client_method
#undef SSL_CTX_free
#undef SSL_CTX_ctrl
#undef SSL_CTX_set_options
#undef SSL_CTX_set_verify
#undef SSL_CTX_set_default_verify_paths
#undef SSL_CTX_load_verify_locations
#undef SSL_CTX_use_certificate_chain_file
#undef SSL_CTX_use_PrivateKey_file
#undef SSL_CTX_check_private_key
#undef SSL_new
#undef SSL_free
#undef SSL_ctrl
#undef SSL_set1_host
#undef SSL_get0_param
#undef SSL_set_bio
#undef SSL_set_connect_state
#undef SSL_connect
#undef SSL_read
#undef SSL_write
#undef SSL_get_error
#undef SSL_shutdown
#undef SSL_is_init_finished
#undef SSL_get_version
#undef SSL_get_current_cipher
#undef SSL_CIPHER_get_name
#undef SSL_get1_peer_certificate
#undef SSL_get_verify_result
#undef ERR_clear_error
#undef ERR_get_error
#undef ERR_error_string_n
#undef X509_verify_cert_error_string
#undef X509_get_subject_name
#undef X509_NAME_oneline
#undef X509_free
#undef X509_VERIFY_PARAM_set1_ip_asc
#undef CRYPTO_free
#undef BIO_new
#undef BIO_meth_new
#undef BIO_meth_set_write
#undef BIO_meth_set_read
#undef BIO_meth_set_ctrl
#undef BIO_meth_set_destroy
#undef BIO_get_new_index
#undef BIO_set_flags
#undef BIO_clear_flags
#undef BIO_set_data
#undef BIO_get_data
#undef BIO_set_init
#undef PKCS5_PBKDF2_HMAC
#undef EVP_sha256
#undef RAND_bytes
#undef CRYPTO_memcmp
#undef OpenSSL_version

SWITCHBOARD_LAZY_LIBRARY(shim_ssl, "libssl.so.3")

#define SHIM_SSL_POINTER(name) SWITCHBOARD_LAZY_POINTER(shim_ssl, name)

static inline SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth) {
    SHIM_SSL_POINTER(SSL_CTX_new) return f != NULL ? f(meth) : NULL;
}
static inline const SSL_METHOD *TLS_client_method(void) {
    SHIM_SSL_POINTER(TLS_client_method) return f != NULL ? f() : NULL;
}
static inline void SSL_CTX_free(SSL_CTX *ctx) {
    SHIM_SSL_POINTER(SSL_CTX_free) if (f != NULL) f(ctx);
}
static inline long SSL_CTX_ctrl(SSL_CTX *ctx, int cmd, long larg, void *parg) {
    SHIM_SSL_POINTER(SSL_CTX_ctrl) return f != NULL ? f(ctx, cmd, larg, parg) : 0;
}
static inline uint64_t SSL_CTX_set_options(SSL_CTX *ctx, uint64_t op) {
    SHIM_SSL_POINTER(SSL_CTX_set_options) return f != NULL ? f(ctx, op) : 0;
}
static inline void SSL_CTX_set_verify(SSL_CTX *ctx, int mode, SSL_verify_cb callback) {
    SHIM_SSL_POINTER(SSL_CTX_set_verify) if (f != NULL) f(ctx, mode, callback);
}
static inline int SSL_CTX_set_default_verify_paths(SSL_CTX *ctx) {
    SHIM_SSL_POINTER(SSL_CTX_set_default_verify_paths) return f != NULL ? f(ctx) : 0;
}
static inline int SSL_CTX_load_verify_locations(SSL_CTX *ctx, const char *CAfile, const char *CApath) {
    SHIM_SSL_POINTER(SSL_CTX_load_verify_locations) return f != NULL ? f(ctx, CAfile, CApath) : 0;
}
static inline int SSL_CTX_use_certificate_chain_file(SSL_CTX *ctx, const char *file) {
    SHIM_SSL_POINTER(SSL_CTX_use_certificate_chain_file) return f != NULL ? f(ctx, file) : 0;
}
static inline int SSL_CTX_use_PrivateKey_file(SSL_CTX *ctx, const char *file, int type) {
    SHIM_SSL_POINTER(SSL_CTX_use_PrivateKey_file) return f != NULL ? f(ctx, file, type) : 0;
}
static inline int SSL_CTX_check_private_key(const SSL_CTX *ctx) {
    SHIM_SSL_POINTER(SSL_CTX_check_private_key) return f != NULL ? f(ctx) : 0;
}
static inline SSL *SSL_new(SSL_CTX *ctx) {
    SHIM_SSL_POINTER(SSL_new) return f != NULL ? f(ctx) : NULL;
}
static inline void SSL_free(SSL *ssl) {
    SHIM_SSL_POINTER(SSL_free) if (f != NULL) f(ssl);
}
static inline long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg) {
    SHIM_SSL_POINTER(SSL_ctrl) return f != NULL ? f(ssl, cmd, larg, parg) : 0;
}
static inline int SSL_set1_host(SSL *s, const char *hostname) {
    SHIM_SSL_POINTER(SSL_set1_host) return f != NULL ? f(s, hostname) : 0;
}
static inline X509_VERIFY_PARAM *SSL_get0_param(SSL *ssl) {
    SHIM_SSL_POINTER(SSL_get0_param) return f != NULL ? f(ssl) : NULL;
}
static inline void SSL_set_bio(SSL *s, BIO *rbio, BIO *wbio) {
    SHIM_SSL_POINTER(SSL_set_bio) if (f != NULL) f(s, rbio, wbio);
}
static inline void SSL_set_connect_state(SSL *s) {
    SHIM_SSL_POINTER(SSL_set_connect_state) if (f != NULL) f(s);
}
static inline int SSL_connect(SSL *ssl) {
    SHIM_SSL_POINTER(SSL_connect) return f != NULL ? f(ssl) : -1;
}
static inline int SSL_read(SSL *ssl, void *buf, int num) {
    SHIM_SSL_POINTER(SSL_read) return f != NULL ? f(ssl, buf, num) : -1;
}
static inline int SSL_write(SSL *ssl, const void *buf, int num) {
    SHIM_SSL_POINTER(SSL_write) return f != NULL ? f(ssl, buf, num) : -1;
}
static inline int SSL_get_error(const SSL *s, int ret_code) {
    SHIM_SSL_POINTER(SSL_get_error) return f != NULL ? f(s, ret_code) : SSL_ERROR_SSL;
}
static inline int SSL_shutdown(SSL *s) {
    SHIM_SSL_POINTER(SSL_shutdown) return f != NULL ? f(s) : -1;
}
static inline int SSL_is_init_finished(const SSL *s) {
    SHIM_SSL_POINTER(SSL_is_init_finished) return f != NULL ? f(s) : 0;
}
static inline const char *SSL_get_version(const SSL *s) {
    SHIM_SSL_POINTER(SSL_get_version) return f != NULL ? f(s) : NULL;
}
static inline const SSL_CIPHER *SSL_get_current_cipher(const SSL *s) {
    SHIM_SSL_POINTER(SSL_get_current_cipher) return f != NULL ? f(s) : NULL;
}
static inline const char *SSL_CIPHER_get_name(const SSL_CIPHER *c) {
    SHIM_SSL_POINTER(SSL_CIPHER_get_name) return f != NULL ? f(c) : NULL;
}
static inline X509 *SSL_get1_peer_certificate(const SSL *s) {
    SHIM_SSL_POINTER(SSL_get1_peer_certificate) return f != NULL ? f(s) : NULL;
}
static inline long SSL_get_verify_result(const SSL *ssl) {
    SHIM_SSL_POINTER(SSL_get_verify_result) return f != NULL ? f(ssl) : X509_V_ERR_UNSPECIFIED;
}
static inline void ERR_clear_error(void) {
    SHIM_SSL_POINTER(ERR_clear_error) if (f != NULL) f();
}
static inline unsigned long ERR_get_error(void) {
    SHIM_SSL_POINTER(ERR_get_error) return f != NULL ? f() : 0;
}
static inline void ERR_error_string_n(unsigned long e, char *buf, size_t len) {
    SHIM_SSL_POINTER(ERR_error_string_n) if (f != NULL) f(e, buf, len);
}
static inline const char *X509_verify_cert_error_string(long n) {
    SHIM_SSL_POINTER(X509_verify_cert_error_string) return f != NULL ? f(n) : NULL;
}
static inline X509_NAME *X509_get_subject_name(const X509 *a) {
    SHIM_SSL_POINTER(X509_get_subject_name) return f != NULL ? f(a) : NULL;
}
static inline char *X509_NAME_oneline(const X509_NAME *a, char *buf, int size) {
    SHIM_SSL_POINTER(X509_NAME_oneline) return f != NULL ? f(a, buf, size) : NULL;
}
static inline void X509_free(X509 *a) {
    SHIM_SSL_POINTER(X509_free) if (f != NULL) f(a);
}
static inline int X509_VERIFY_PARAM_set1_ip_asc(X509_VERIFY_PARAM *param, const char *ipasc) {
    SHIM_SSL_POINTER(X509_VERIFY_PARAM_set1_ip_asc) return f != NULL ? f(param, ipasc) : 0;
}
static inline void CRYPTO_free(void *ptr, const char *file, int line) {
    SHIM_SSL_POINTER(CRYPTO_free) if (f != NULL) f(ptr, file, line);
}
static inline BIO *BIO_new(const BIO_METHOD *type) {
    SHIM_SSL_POINTER(BIO_new) return f != NULL ? f(type) : NULL;
}
static inline BIO_METHOD *BIO_meth_new(int type, const char *name) {
    SHIM_SSL_POINTER(BIO_meth_new) return f != NULL ? f(type, name) : NULL;
}
static inline int BIO_meth_set_write(BIO_METHOD *biom, int (*write)(BIO *, const char *, int)) {
    SHIM_SSL_POINTER(BIO_meth_set_write) return f != NULL ? f(biom, write) : 0;
}
static inline int BIO_meth_set_read(BIO_METHOD *biom, int (*read)(BIO *, char *, int)) {
    SHIM_SSL_POINTER(BIO_meth_set_read) return f != NULL ? f(biom, read) : 0;
}
static inline int BIO_meth_set_ctrl(BIO_METHOD *biom, long (*ctrl)(BIO *, int, long, void *)) {
    SHIM_SSL_POINTER(BIO_meth_set_ctrl) return f != NULL ? f(biom, ctrl) : 0;
}
static inline int BIO_meth_set_destroy(BIO_METHOD *biom, int (*destroy)(BIO *)) {
    SHIM_SSL_POINTER(BIO_meth_set_destroy) return f != NULL ? f(biom, destroy) : 0;
}
static inline int BIO_get_new_index(void) {
    SHIM_SSL_POINTER(BIO_get_new_index) return f != NULL ? f() : -1;
}
static inline void BIO_set_flags(BIO *b, int flags) {
    SHIM_SSL_POINTER(BIO_set_flags) if (f != NULL) f(b, flags);
}
static inline void BIO_clear_flags(BIO *b, int flags) {
    SHIM_SSL_POINTER(BIO_clear_flags) if (f != NULL) f(b, flags);
}
static inline void BIO_set_data(BIO *a, void *ptr) {
    SHIM_SSL_POINTER(BIO_set_data) if (f != NULL) f(a, ptr);
}
static inline void *BIO_get_data(BIO *a) {
    SHIM_SSL_POINTER(BIO_get_data) return f != NULL ? f(a) : NULL;
}
static inline void BIO_set_init(BIO *a, int init) {
    SHIM_SSL_POINTER(BIO_set_init) if (f != NULL) f(a, init);
}
static inline int PKCS5_PBKDF2_HMAC(const char *pass, int passlen, const unsigned char *salt, int saltlen, int iter, const EVP_MD *digest, int keylen, unsigned char *out) {
    SHIM_SSL_POINTER(PKCS5_PBKDF2_HMAC) return f != NULL ? f(pass, passlen, salt, saltlen, iter, digest, keylen, out) : 0;
}
static inline const EVP_MD *EVP_sha256(void) {
    SHIM_SSL_POINTER(EVP_sha256) return f != NULL ? f() : NULL;
}
static inline int RAND_bytes(unsigned char *buf, int num) {
    SHIM_SSL_POINTER(RAND_bytes) return f != NULL ? f(buf, num) : 0;
}
static inline int CRYPTO_memcmp(const void *in_a, const void *in_b, size_t len) {
    SHIM_SSL_POINTER(CRYPTO_memcmp) return f != NULL ? f(in_a, in_b, len) : 1;
}
static inline const char *OpenSSL_version(int type) {
    SHIM_SSL_POINTER(OpenSSL_version) return f != NULL ? f(type) : NULL;
}

static inline int shim_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline int shim_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline long shim_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

// SSL_OP_* are `SSL_OP_BIT(n)` expressions, which Swift does not import.
static inline uint64_t shim_SSL_OP_IGNORE_UNEXPECTED_EOF(void) {
    return SSL_OP_IGNORE_UNEXPECTED_EOF;
}

#endif
