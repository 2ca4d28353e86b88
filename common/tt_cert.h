/*  tt_cert -- loading a CURVE certificate with a reason when it cannot be.
 *
 *  czmq's zcert_load() answers NULL for a missing file, an unreadable one and
 *  a file that is not a certificate alike, and falls back to the public file
 *  when the secret one cannot be read. A service whose user cannot read its
 *  key must say so ("cannot read PATH: Permission denied"), so every
 *  certificate the daemons take from the command line is loaded here.
 */
#ifndef TT_CERT_H
#define TT_CERT_H

#include <czmq.h>
#include <stdbool.h>

/* Load the certificate at path (the public file; its secret part is
 * path + "_secret"). With need_secret only the secret file is read, and it
 * must hold a secret key. Caller owns the result (zcert_destroy). On failure
 * returns NULL and *why says what is wrong, naming the file (caller frees). */
zcert_t *tt_cert_load(const char *path, bool need_secret, char **why);

#endif
