/* Exposes OpenSSL's libcrypto (libssl-dev) to Swift, for SHA-256 through the EVP digest interface. */
#include <openssl/evp.h>
