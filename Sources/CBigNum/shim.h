// libcrypto's big-number arithmetic (OpenSSL's BN_*), for MSE's Diffie–Hellman only.
#ifndef SHOAL_CBIGNUM_SHIM_H
#define SHOAL_CBIGNUM_SHIM_H
#include <openssl/bn.h>
#endif
