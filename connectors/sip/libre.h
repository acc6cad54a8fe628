#pragma once

// The one place libre's headers are included (only by sip_stack.cc). Without HAVE_INTTYPES_H
// and HAVE_STDBOOL_H, re_types.h defines bool, true and false as macros; it also defines MIN,
// MAX and ARRAY_SIZE, which are undefined again below. Debian's libre is built with OpenSSL:
// USE_OPENSSL gives the headers as that build has them (re_sha.h then takes OpenSSL's SHA-1,
// re_tls.h declares tls_openssl_context).

#ifndef HAVE_INTTYPES_H
#define HAVE_INTTYPES_H 1
#endif
#ifndef HAVE_STDBOOL_H
#define HAVE_STDBOOL_H 1
#endif
#ifndef USE_OPENSSL
#define USE_OPENSSL 1
#endif

extern "C" {
#include <re/re.h>
}

#undef MIN
#undef MAX
#undef ARRAY_SIZE
#undef DEBUG_MODULE
#undef DEBUG_LEVEL
