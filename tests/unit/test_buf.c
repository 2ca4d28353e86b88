/*  test_buf -- the capped buffer: formatted appends fit, grow, and stop at the
 *  cap without losing what was there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "tt_buf.h"

static void
test_formatted_appends_fit_and_grow(void **state)
{
    (void)state;
    tt_buf_t b;
    tt_buf_init(&b, 0);
    assert_int_equal(tt_buf_addf(&b, "%s-%d", "a", 1), TT_OK); /* nothing allocated yet */
    assert_string_equal(tt_buf_str(&b), "a-1");
    assert_int_equal(tt_buf_addf(&b, "|%d", 22), TT_OK); /* fits the room there is */
    assert_string_equal(tt_buf_str(&b), "a-1|22");
    char long_text[5000];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    assert_int_equal(tt_buf_addf(&b, "<%s>", long_text), TT_OK); /* has to grow */
    assert_int_equal(b.len, 6 + 2 + strlen(long_text));
    assert_int_equal(strlen(tt_buf_str(&b)), b.len);
    assert_memory_equal(b.data, "a-1|22<xxx", 10);
    assert_string_equal(b.data + b.len - 2, "x>");
    assert_int_equal(tt_buf_addf(&b, "%s", ""), TT_OK);
    assert_int_equal(strlen(tt_buf_str(&b)), b.len);
    tt_buf_fini(&b);
}

static void
test_an_append_over_the_cap_changes_nothing(void **state)
{
    (void)state;
    tt_buf_t b;
    tt_buf_init(&b, 16);
    assert_int_equal(tt_buf_adds(&b, "0123456789"), TT_OK);
    assert_true(b.alloc > 16); /* room enough to format past the cap */
    assert_int_equal(tt_buf_addf(&b, "%s", "abcdefg"), TT_ETOOBIG);
    assert_string_equal(tt_buf_str(&b), "0123456789");
    assert_int_equal(b.len, 10);
    assert_int_equal(tt_buf_addf(&b, "%d", 123456), TT_OK); /* exactly to the cap */
    assert_string_equal(tt_buf_str(&b), "0123456789123456");
    assert_int_equal(tt_buf_addf(&b, "%c", 'z'), TT_ETOOBIG);
    assert_string_equal(tt_buf_str(&b), "0123456789123456");
    tt_buf_fini(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formatted_appends_fit_and_grow),
        cmocka_unit_test(test_an_append_over_the_cap_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
