#!/usr/bin/env bash
# `cmake --install` puts the binaries, libtroupe-common, its public headers and
# a relocatable pkg-config file under any prefix, and a program outside the
# tree builds and runs against them with nothing but pkg-config.
source "$(dirname "$0")/lib.sh"
BUILD=$(cd "$BIN/.." && pwd)
cmake --install "$BUILD" --prefix "$TMP/prefix" > /dev/null
for b in coordinator agentd fakellm; do [[ -x "$TMP/prefix/bin/$b" ]] || fail "$b not installed"; done
pc=$(find "$TMP/prefix" -name troupe-common.pc | head -1)
[[ -n "$pc" ]] || fail "no troupe-common.pc installed"
! ls "$TMP/prefix/include/troupe" | grep -q "_impl.h" || fail "private headers installed"
cat > "$TMP/use.c" <<'C'
#include <stdio.h>
#include "tt_hash.h"
#include "tt_time.h"
int main(void) {
    int64_t t; char dt[TT_DATETIME_LEN], hex[17]; uint8_t h[32];
    if (!tt_datetime_parse("2026-03-01T09:00:00", &t)) return 1;
    tt_sha256("abc", 3, h);
    printf("%s %s\n", tt_datetime_format(t + 600, dt), tt_hex(h, 8, hex));
    return 0;
}
C
export PKG_CONFIG_PATH=$(dirname "$pc")
cc "$TMP/use.c" -o "$TMP/use" $(pkg-config --cflags --libs troupe-common) || fail "cannot build against the installed library"
[[ "$("$TMP/use")" == "2026-03-01T09:10:00 ba7816bf8f01cfea" ]] || fail "wrong output from the installed library"
"$TMP/prefix/bin/coordinator" --version | grep -q troupe || fail "installed coordinator does not run"
pass "install: binaries, library, headers and pkg-config work from $TMP/prefix"
