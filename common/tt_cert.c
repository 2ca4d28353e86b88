/*  tt_cert -- CURVE certificates loaded with a reason when they cannot be. */
#include "tt_cert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_buf.h"
#include "tt_file.h"
#include "tt_mem.h"

/* zcert's text for an all-zero key: what a public-only certificate yields */
#define S_NO_KEY "0000000000000000000000000000000000000000"

/* Readable regular file, or *why names it with the cause. Checked by opening
 * it, as the service's user, not by looking at mode bits. */
static bool
s_readable(const char *path, char **why)
{
    char *cause = NULL;
    if (tt_check_regular_file(path, &cause) != TT_OK) {
        *why = tt_asprintf("%s: %s", path, cause);
        free(cause);
        return false;
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        *why = tt_asprintf("cannot read %s: %s", path, strerror(errno));
        return false;
    }
    fclose(f);
    return true;
}

/* A ZPL certificate holds a line `public-key = "<40 Z85 characters>"`. Files
 * without one are refused here: zcert_load leaks on a file it cannot parse. */
static bool
s_has_public_key(const char *path)
{
    tt_buf_t b;
    tt_buf_init(&b, 64 << 10);
    char *why = NULL;
    bool ok = false;
    if (tt_read_file(path, &b, &why) == TT_OK) {
        for (const char *p = tt_buf_str(&b); !ok && (p = strstr(p, "public-key")) != NULL;) {
            p += strlen("public-key");
            p += strspn(p, " \t");
            if (*p++ != '=')
                continue;
            p += strspn(p, " \t");
            ok = *p == '"' && strlen(p) > 41 && p[41] == '"' && !memchr(p + 1, '"', 40);
        }
    }
    free(why);
    tt_buf_fini(&b);
    return ok;
}

zcert_t *
tt_cert_load(const char *path, bool need_secret, char **why)
{
    *why = NULL;
    char *secret = tt_asprintf("%s_secret", path);
    zcert_t *cert = NULL;
    /* zcert_load reads the secret file when it can, else the public one */
    if (!s_readable(need_secret ? secret : path, why))
        goto done;
    cert = s_has_public_key(need_secret ? secret : path) ? zcert_load(path) : NULL;
    if (!cert) {
        *why = tt_asprintf("%s: not a CURVE certificate", need_secret ? secret : path);
    } else if (need_secret && !strcmp(zcert_secret_txt(cert), S_NO_KEY)) {
        *why = tt_asprintf("%s: holds no secret key", secret);
        zcert_destroy(&cert);
    }
done:
    free(secret);
    return cert;
}
