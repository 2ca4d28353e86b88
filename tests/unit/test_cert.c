/*  test_cert -- a certificate that cannot be loaded says which file and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tt_cert.h"
#include "tt_mem.h"
#include "tt_test.h"

typedef struct {
    char *dir;
    char *cert; /* dir/a.cert with its _secret */
} s_fixture_t;

static int
s_setup(void **state)
{
    s_fixture_t *f = tt_calloc(1, sizeof *f);
    f->dir = tt_test_tmpdir("cert");
    f->cert = tt_asprintf("%s/a.cert", f->dir);
    zcert_t *cert = zcert_new();
    assert_int_equal(zcert_save(cert, f->cert), 0);
    zcert_destroy(&cert);
    *state = f;
    return 0;
}

static int
s_teardown(void **state)
{
    s_fixture_t *f = *state;
    tt_test_rmtree(f->dir);
    free(f->dir);
    free(f->cert);
    free(f);
    return 0;
}

static void
test_loads_public_and_secret(void **state)
{
    s_fixture_t *f = *state;
    char *why = NULL;
    zcert_t *cert = tt_cert_load(f->cert, true, &why);
    assert_non_null(cert);
    assert_null(why);
    assert_int_equal(strlen(zcert_secret_txt(cert)), 40);
    zcert_destroy(&cert);
    cert = tt_cert_load(f->cert, false, &why);
    assert_non_null(cert);
    zcert_destroy(&cert);
}

static void
test_missing_file_is_named(void **state)
{
    s_fixture_t *f = *state;
    char *path = tt_asprintf("%s/none.cert", f->dir);
    char *why = NULL;
    assert_null(tt_cert_load(path, false, &why));
    assert_non_null(strstr(why, path));
    assert_non_null(strstr(why, "No such file or directory"));
    free(why);
    free(path);
}

static void
test_public_only_has_no_secret(void **state)
{
    s_fixture_t *f = *state;
    char *secret = tt_asprintf("%s_secret", f->cert);
    assert_int_equal(unlink(secret), 0);
    char *why = NULL;
    assert_null(tt_cert_load(f->cert, true, &why));
    assert_non_null(strstr(why, secret));
    free(why);
    /* a public certificate is still a public certificate */
    zcert_t *cert = tt_cert_load(f->cert, false, &why);
    assert_non_null(cert);
    zcert_destroy(&cert);
    free(secret);
}

static void
test_not_a_certificate(void **state)
{
    s_fixture_t *f = *state;
    char *path = tt_asprintf("%s/junk.cert", f->dir);
    assert_true(tt_test_write_file(path, "hello\n"));
    char *why = NULL;
    assert_null(tt_cert_load(path, false, &why));
    assert_non_null(strstr(why, "not a CURVE certificate"));
    free(why);
    /* a directory is refused without being read */
    assert_null(tt_cert_load(f->dir, false, &why));
    assert_non_null(strstr(why, f->dir));
    free(why);
    free(path);
}

static void
test_unreadable_says_permission_denied(void **state)
{
    s_fixture_t *f = *state;
    if (geteuid() == 0)
        skip(); /* root reads a 0000 file; it_systemd checks this as another user */
    char *secret = tt_asprintf("%s_secret", f->cert);
    assert_int_equal(chmod(secret, 0), 0);
    char *why = NULL;
    assert_null(tt_cert_load(f->cert, true, &why));
    assert_non_null(strstr(why, "cannot read"));
    assert_non_null(strstr(why, "Permission denied"));
    free(why);
    free(secret);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loads_public_and_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_is_named, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_public_only_has_no_secret, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_not_a_certificate, s_setup, s_teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_says_permission_denied, s_setup,
                                        s_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
